// Command lambda serves authhero-go as an AWS Lambda function, behind a
// Lambda function URL or an API Gateway HTTP API (payload format 2.0), with
// no third-party adapter: Handler and APIGatewayV2Handler translate the
// events to net/http and back.
//
// It is configured from the environment, like `authhero serve`:
// DATABASE_URL and ENCRYPTION_KEY are required, PROVIDER defaults to
// "aws-lambda". See README.md for building, deploying and every variable.
//
//	GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./examples/lambda
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/authhero-go/authhero"
	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/secrets"
)

// defaultTenant is the tenant served at the issuer's own host, the same one
// `authhero serve` bootstraps, so that a standby and its primary agree.
const defaultTenant = "default"

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		logger.Error("configuration", "err", err)
		os.Exit(1)
	}
	d, err := setup(context.Background(), cfg, logger)
	if err != nil {
		logger.Error("start", "err", err)
		os.Exit(1)
	}
	// Handler also decodes HTTP API payload 2.0 events: the JSON is the same.
	lambda.StartWithOptions(Handler(d.handler), lambda.WithEnableSIGTERM(func() { d.db.Close() }))
}

// config is the function's environment.
type config struct {
	databaseURL        string
	encryptionKey      []byte
	issuer             string
	provider           string
	signingAlg         string
	adminClientID      string
	adminClientSecret  string
	trustForwardedHost bool
}

// loadConfig reads the configuration through getenv (os.Getenv) and says
// what is missing.
func loadConfig(getenv func(string) string) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := config{
		databaseURL:       getenv("DATABASE_URL"),
		issuer:            getenv("ISSUER"),
		provider:          env("PROVIDER", "aws-lambda"),
		signingAlg:        env("AUTHHERO_SIGNING_ALG", "RS256"),
		adminClientID:     getenv("AUTHHERO_ADMIN_CLIENT_ID"),
		adminClientSecret: getenv("AUTHHERO_ADMIN_CLIENT_SECRET"),
	}
	var errs []error
	if c.databaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required: postgres://... or mysql://... (a Lambda instance keeps no disk)"))
	}
	if v := getenv("ENCRYPTION_KEY"); v == "" {
		errs = append(errs, errors.New("ENCRYPTION_KEY is required: base64 of 32 bytes, the same as every other instance on the database"))
	} else if k, err := secrets.ParseKey(v); err != nil {
		errs = append(errs, err)
	} else {
		c.encryptionKey = k
	}
	if (c.adminClientID == "") != (c.adminClientSecret == "") {
		errs = append(errs, errors.New("AUTHHERO_ADMIN_CLIENT_ID and AUTHHERO_ADMIN_CLIENT_SECRET go together"))
	}
	if v := getenv("TRUST_FORWARDED_HOST"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRUST_FORWARDED_HOST %q is not a boolean", v))
		}
		c.trustForwardedHost = b
		if b && c.issuer == "" {
			errs = append(errs, errors.New("TRUST_FORWARDED_HOST needs ISSUER: without an issuer any forwarded host would be served"))
		}
	}
	return c, errors.Join(errs...)
}

// deployment is a configured App and the handler the function serves.
type deployment struct {
	app     *authhero.App
	handler http.Handler
	db      *bunadapter.Adapter
}

// setup opens and migrates the database, builds the App (which serves
// /health for the DNS failover checks) and bootstraps the default tenant
// when the database has none.
func setup(ctx context.Context, cfg config, logger *slog.Logger) (*deployment, error) {
	if strings.HasPrefix(cfg.databaseURL, "sqlite://") {
		logger.Warn("an SQLite database on Lambda lives in one instance's /tmp: it is not shared and is lost with the instance")
	}
	db, err := bunadapter.Open(ctx, cfg.databaseURL)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			db.Close()
		}
	}()
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	app, err := authhero.InitMultiTenant(authhero.Options{
		DataAdapter:   db.DataAdapters,
		EncryptionKey: cfg.encryptionKey,
		Issuer:        cfg.issuer,
		DefaultTenant: defaultTenant,
		Provider:      cfg.provider,
		Logger:        logger,
	})
	if err != nil {
		return nil, err
	}
	if err := bootstrap(ctx, app, cfg, logger); err != nil {
		return nil, err
	}
	var h http.Handler = app
	if cfg.trustForwardedHost {
		h = forwardedHost(h)
	}
	ok = true
	return &deployment{app: app, handler: h, db: db}, nil
}

// bootstrap creates the default tenant, and the management client named by
// AUTHHERO_ADMIN_CLIENT_ID and _SECRET, when they do not exist yet. A
// standby on its primary's database finds both there and creates nothing.
// No secret is ever generated here, since it would end up in the logs.
func bootstrap(ctx context.Context, app *authhero.App, cfg config, logger *slog.Logger) error {
	data := app.DataAdapter()
	_, err := data.Tenants.Get(ctx, defaultTenant)
	if errors.Is(err, adapters.ErrNotFound) {
		_, err = app.CreateTenant(ctx, adapters.Tenant{ID: defaultTenant, FriendlyName: "Default", SigningAlg: cfg.signingAlg})
		if err == nil && cfg.adminClientID == "" {
			logger.Warn("created the default tenant without a management client: set AUTHHERO_ADMIN_CLIENT_ID and AUTHHERO_ADMIN_CLIENT_SECRET to create one")
		}
		if errors.Is(err, adapters.ErrConflict) { // another instance won the race
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("bootstrap tenant: %w", err)
	}
	if cfg.adminClientID == "" {
		return nil
	}
	if _, err := data.Clients.Get(ctx, defaultTenant, cfg.adminClientID); !errors.Is(err, adapters.ErrNotFound) {
		return err
	}
	_, _, err = app.CreateManagementClient(ctx, defaultTenant, "Default Management Client", cfg.adminClientID, cfg.adminClientSecret)
	if err != nil && !errors.Is(err, adapters.ErrConflict) {
		return fmt.Errorf("bootstrap management client: %w", err)
	}
	return nil
}

// forwardedHost makes X-Forwarded-Host, when present, the request's host.
// It is for a function URL behind CloudFront: CloudFront must send the
// function URL's own host, so a CloudFront function passes the viewer's host
// in X-Forwarded-Host (README.md). A function URL is public, so anyone can
// send that header; loadConfig therefore demands ISSUER with it, and with an
// issuer the App serves only the issuer's host, its tenant subdomains and
// registered custom domains: a forged header reaches nothing the caller could
// not reach at that host directly.
func forwardedHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ","); strings.TrimSpace(h) != "" {
			r2 := new(http.Request)
			*r2 = *r
			r2.Host = strings.TrimSpace(h)
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}
