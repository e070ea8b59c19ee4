/** The registry an OCI image reference pulls from (Docker Hub when none is named), and whether it is pinned by digest. */
export function parseImageRef(imageRef: string): { registry: string; pinned: boolean } {
  const [path = ''] = imageRef.split('@');
  const first = path.split('/')[0] ?? '';
  const named = path.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return { registry: named ? first.replace(/:\d+$/, '') : 'docker.io', pinned: /@sha256:[a-f0-9]{64}$/.test(imageRef) };
}
