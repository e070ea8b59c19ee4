import type { NextFunction, Request, Response } from 'express';
import type { Caller } from '../auth/caller';
import { IDENTITY_HEADER } from '../auth/identity-token';
import type { Plane } from '../config/config';
import { ErrorCode } from '../errors';
import { requestIdFrom } from '../http/request-id';
import type { SubgraphDependencies } from './subgraph-app';
import { markCorrelation } from '../telemetry/tracing';

export interface IdentifiedLocals {
  requestId: string;
  correlationId: string;
  caller: Caller;
}

/**
 * A plane serves only requests carrying an identity signed for it (by the gateway or
 * another plane), on top of the mTLS client certificate. Anything else is refused with
 * evidence (bounded, see RefusalThrottle) before GraphQL sees it.
 */
export function requireIdentity(plane: Plane, deps: Pick<SubgraphDependencies, 'identityTokens' | 'throttle' | 'log'>) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const correlationId = requestIdFrom(req.headers['x-correlation-id'] ?? requestId);
    res.setHeader('x-request-id', requestId);
    markCorrelation(correlationId);
    deps.log.debug({ requestId, plane }, 'subgraph request');
    const token = req.headers[IDENTITY_HEADER];
    let failure = 'identity_missing';
    if (typeof token === 'string' && token.length > 0 && token.length < 16_384) {
      try {
        const caller = await deps.identityTokens.verify(token, plane);
        Object.assign(res.locals, { requestId, correlationId, caller } satisfies IdentifiedLocals);
        next();
        return;
      } catch {
        failure = 'identity_invalid';
      }
    }
    const pointer = await deps.throttle
      .record(`${plane}:${failure}`, {
        actor: 'unauthenticated',
        correlationId,
        eventType: 'authority.refusal',
        refusal: {
          reasonClass: 'authority_missing_or_invalid',
          reasonCode: failure,
          subject: `${plane}.graphql`,
          reason: `request to the ${plane} plane without a valid forwarded identity`,
        },
      })
      .catch(() => undefined);
    res.status(401).json({
      errors: [
        {
          message: 'a valid forwarded identity is required',
          extensions: { code: ErrorCode.Unauthenticated, ...(pointer ? { evidence_pointer: pointer } : {}) },
        },
      ],
    });
  };
}
