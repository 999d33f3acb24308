/**
 * GET /openapi.json and Swagger UI at /apidocs/, served from the swagger-ui-dist package
 * (no CDN: the server may have no internet). Only the initializer is ours: it points the UI
 * at this server's document, so "Try it out" calls this same server.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express from 'express';
import { openApiDocument } from './openapi.js';

const require = createRequire(import.meta.url);

/** Resolved via package.json so the 1.5 MB bundle is never loaded into the server itself. */
export function swaggerUiDir(): string {
  return dirname(require.resolve('swagger-ui-dist/package.json'));
}

// Relative URL: works when Tycho is served under a path prefix by an ingress, too.
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: new URL('../openapi.json', window.location.href).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
    validatorUrl: null,
    displayRequestDuration: true
  });
};
`;

export function mountDocs(app: express.Express): void {
  const body = JSON.stringify(openApiDocument());
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(body);
  });
  // Registered before the static files, so the package's petstore initializer is never served.
  app.get('/apidocs/swagger-initializer.js', (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'no-cache').send(INITIALIZER);
  });
  app.get('/apidocs', (req, res, next) => {
    // Express matches "/apidocs/" here too (non-strict routing); that one is the page itself.
    if (req.path.endsWith('/')) return next();
    // Without the slash the page's relative script URLs would resolve against "/". The
    // redirect is relative too, so it survives a path prefix.
    const q = req.originalUrl.indexOf('?');
    res.redirect(301, `apidocs/${q >= 0 ? req.originalUrl.slice(q) : ''}`);
  });
  app.use('/apidocs/', express.static(swaggerUiDir(), { index: 'index.html', redirect: false, fallthrough: true }));
}
