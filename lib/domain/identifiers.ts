/** Tenant ids and bucket names: lowercase DNS-label style, 3 to 63 characters. */
export const RESOURCE_NAME = /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/;
