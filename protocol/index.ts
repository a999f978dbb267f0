/**
 * The one module shared by client, server and webviews, imported as `@protocol`. Plain JSON-safe
 * types only: no classes, Maps, Dates or typed arrays on the wire.
 */
export type * from './run';
