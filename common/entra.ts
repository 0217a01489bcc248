/*
 * Microsoft Entra ID identifiers, as config and policies check them. Imports nothing.
 */

/** A GUID: tenant ids, application (client) ids. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A tenant's domain, such as contoso.onmicrosoft.com. */
export const TENANT_DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/i;
