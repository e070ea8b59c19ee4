export * from './blob-store';
export { FsBlobStore } from './fs-blob-store';
