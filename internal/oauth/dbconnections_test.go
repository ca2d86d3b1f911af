package oauth

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authhero-go/authhero/adapters"
	"github.com/authhero-go/authhero/adapters/bunadapter"
	"github.com/authhero-go/authhero/internal/accounts"
	"github.com/authhero-go/authhero/tenant"
)

type sentReset struct {
	tenantID, userID, code string
}

type fakeReset chan sentReset

func (f fakeReset) SendPasswordReset(_ context.Context, ti *tenant.Info, u *adapters.User, code string) error {
	f <- sentReset{ti.ID(), u.UserID, code}
	return nil
}

// TestChangePasswordCode checks that a reset code is stored and sent only
// for an existing user, while the answers are identical.
func TestChangePasswordCode(t *testing.T) {
	ctx := context.Background()
	db, err := bunadapter.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "a.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(ctx))
	d := db.DataAdapters
	tn, err := d.Tenants.Create(ctx, adapters.Tenant{ID: "acme", FriendlyName: "ACME"})
	require.NoError(t, err)
	_, err = d.Connections.Create(ctx, "acme", adapters.Connection{Name: "Username-Password-Authentication", Strategy: "auth0"})
	require.NoError(t, err)
	_, err = d.Clients.Create(ctx, "acme", adapters.Client{ClientID: "app", Name: "app"})
	require.NoError(t, err)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	acc := &accounts.Service{Data: d}
	u, err := acc.CreateUser(ctx, "acme", accounts.NewUser{Connection: "Username-Password-Authentication", Email: "ann@acme.test", Password: "long enough pw"})
	require.NoError(t, err)
	sent := make(fakeReset, 4)
	s := &Server{Data: d, Accounts: acc, Reset: sent, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	info := &tenant.Info{Tenant: tn, Issuer: "https://acme.auth.test/", Host: "acme.auth.test"}
	call := func(email string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/dbconnections/change_password",
			strings.NewReader(`{"client_id":"app","connection":"Username-Password-Authentication","email":"`+email+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req = req.WithContext(tenant.NewContext(req.Context(), info))
		w := httptest.NewRecorder()
		s.ChangePassword(w, req)
		return w
	}

	unknown := call("nobody@acme.test")
	known := call("ANN@acme.test")
	require.Equal(t, http.StatusOK, known.Code)
	require.Equal(t, unknown.Code, known.Code)
	require.Equal(t, unknown.Body.String(), known.Body.String())
	require.Equal(t, changePasswordMessage, known.Body.String())

	var got sentReset
	select {
	case got = <-sent:
	case <-time.After(5 * time.Second):
		t.Fatal("no reset was sent")
	}
	require.Equal(t, "acme", got.tenantID)
	require.Equal(t, u.UserID, got.userID)
	require.Len(t, got.code, 43)
	code, err := d.Codes.Get(ctx, "acme", adapters.CodePasswordReset, got.code)
	require.NoError(t, err)
	require.Equal(t, u.UserID, code.UserID)
	require.WithinDuration(t, now.Add(30*time.Minute), code.ExpiresAt, time.Second)
	select {
	case extra := <-sent:
		t.Fatalf("a reset was sent for an unknown user: %+v", extra)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestPKCEAndHelpers(t *testing.T) {
	// RFC 7636 Appendix B.
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	challenge := "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	cd := &adapters.Code{CodeChallenge: challenge, CodeChallengeMethod: "S256"}
	require.Empty(t, checkPKCE(cd, verifier, true))
	require.NotEmpty(t, checkPKCE(cd, verifier[:42], false))
	require.NotEmpty(t, checkPKCE(cd, "", false))
	require.NotEmpty(t, checkPKCE(cd, verifier[:42]+"!", false))
	require.NotEmpty(t, checkPKCE(&adapters.Code{CodeChallenge: verifier, CodeChallengeMethod: "plain"}, verifier, false))
	require.NotEmpty(t, checkPKCE(&adapters.Code{}, verifier, false), "downgrade")
	require.NotEmpty(t, checkPKCE(&adapters.Code{}, "", true), "public without PKCE")
	require.Empty(t, checkPKCE(&adapters.Code{}, "", false))

	require.Len(t, halfHash("RS256", "x"), 22)
	require.Len(t, halfHash("EdDSA", "x"), 43)

	require.Empty(t, SessionSID(""))
	require.NotEqual(t, "abc", SessionSID("abc"))
	require.Equal(t, SessionSID("abc"), SessionSID("abc"))

	abs, idle, lw := refreshPolicy(&adapters.Client{})
	require.Equal(t, 30*86400, abs)
	require.Equal(t, 15*86400, idle)
	require.Equal(t, 30*time.Second, lw)
	abs, idle, lw = refreshPolicy(&adapters.Client{RefreshToken: &adapters.RefreshTokenSettings{Leeway: 9000, InfiniteTokenLifetime: true, IdleTokenLifetime: 60}})
	require.Equal(t, 0, abs)
	require.Equal(t, 60, idle)
	require.Equal(t, 600*time.Second, lw)

	require.True(t, logoutURLAllowed("https://a.test/x", []string{"https://a.test/x"}))
	require.False(t, logoutURLAllowed("javascript:alert(1)", []string{"javascript:alert(1)"}))
	require.False(t, logoutURLAllowed("https://u@a.test/x", []string{"https://u@a.test/x"}))
	require.False(t, logoutURLAllowed("https://a.test/x/", []string{"https://a.test/x"}))
}
