/**
 * The one module shared by client, server and webviews, imported as `@protocol`. Plain JSON-safe
 * types only: no classes, Maps, Dates or typed arrays on the wire. Webviews import types only.
 */
export type * from './run';
export * from './sweep';
export type * from './webview';
export * from './commands';
export * from './lsp';
export * from './session';
export * from './runHeadline';
