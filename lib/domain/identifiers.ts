/** Tenant ids and bucket names: lowercase DNS-label style, 3 to 63 characters. */
export const RESOURCE_NAME = /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/;

/** Workload ids a client may choose: 1 to 64 letters, digits, dots, colons, underscores or hyphens, from a letter or digit (UUIDs fit). */
export const WORKLOAD_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
