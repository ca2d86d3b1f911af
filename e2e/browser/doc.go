// Package browser holds end-to-end tests that drive headless Chromium
// (chromedp) through the universal login against an in-process server,
// with golang.org/x/oauth2 and go-oidc as the relying party.
package browser
