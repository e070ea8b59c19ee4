/**
 * A tenant as every plane but the control plane knows it: by id, the fields being the control
 * plane's. What their `Tenant` resolvers receive, and what their fields of type `Tenant` return.
 */
export interface TenantReference {
  __typename?: 'Tenant';
  id: string;
}
