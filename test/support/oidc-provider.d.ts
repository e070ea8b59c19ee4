// oidc-provider ships no type declarations (and @types/oidc-provider lags behind 9.x): the
// little of its API that test/support/oidc-server.ts uses. Configuration is checked by the
// provider itself at construction.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type Configuration = Record<string, unknown>;

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
  }

  export const errors: {
    InvalidTarget: new (description?: string) => Error;
  };

  export default Provider;
}
