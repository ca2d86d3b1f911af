package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func newBox(t *testing.T, key []byte, prev ...[]byte) *Box {
	t.Helper()
	b, err := NewBox(key, prev...)
	require.NoError(t, err)
	return b
}

var sealedRE = regexp.MustCompile(`^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$`)

func TestSealOpenRoundTrip(t *testing.T) {
	key := newKey(t)
	b := newBox(t, key)
	for _, pt := range [][]byte{{}, []byte("s3cret"), bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)} {
		s, err := b.Seal(pt, "client:abc")
		require.NoError(t, err)
		require.Regexp(t, sealedRE, s)
		require.Equal(t, "v1."+KeyID(key)+".", s[:12])
		got, err := b.Open(s, "client:abc")
		require.NoError(t, err)
		require.Equal(t, pt, got)
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	b := newBox(t, newKey(t))
	s1, err := b.Seal([]byte("same"), "a")
	require.NoError(t, err)
	s2, err := b.Seal([]byte("same"), "a")
	require.NoError(t, err)
	require.NotEqual(t, s1, s2)
}

func TestKeyID(t *testing.T) {
	// SHA-256 of 32 bytes of 0x01, first 8 hex characters.
	k := bytes.Repeat([]byte{1}, 32)
	require.Equal(t, "72cd6e84", KeyID(k))
	b := newBox(t, k)
	require.Equal(t, "72cd6e84", b.KeyID())
}

func TestTamper(t *testing.T) {
	b := newBox(t, newKey(t))
	s, err := b.Seal([]byte("hello world"), "row:1")
	require.NoError(t, err)
	raw, err := base64.RawURLEncoding.DecodeString(s[12:])
	require.NoError(t, err)
	// Flip every bit of every byte (nonce, ciphertext and tag) in turn.
	for i := range raw {
		for bit := 0; bit < 8; bit++ {
			mod := append([]byte(nil), raw...)
			mod[i] ^= 1 << bit
			_, err := b.Open(s[:12]+base64.RawURLEncoding.EncodeToString(mod), "row:1")
			require.ErrorIs(t, err, ErrDecrypt, "byte %d bit %d", i, bit)
		}
	}
	// Truncation and extension.
	_, err = b.Open(s[:12]+base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), "row:1")
	require.ErrorIs(t, err, ErrDecrypt)
	_, err = b.Open(s[:12]+base64.RawURLEncoding.EncodeToString(append(raw, 0)), "row:1")
	require.ErrorIs(t, err, ErrDecrypt)
}

func TestSwapAAD(t *testing.T) {
	b := newBox(t, newKey(t))
	a, err := b.Seal([]byte("key of A"), "signing_key:A")
	require.NoError(t, err)
	c, err := b.Seal([]byte("key of B"), "signing_key:B")
	require.NoError(t, err)
	// A ciphertext moved to another row does not open there.
	_, err = b.Open(a, "signing_key:B")
	require.ErrorIs(t, err, ErrDecrypt)
	_, err = b.Open(c, "signing_key:A")
	require.ErrorIs(t, err, ErrDecrypt)
	_, err = b.Open(a, "")
	require.ErrorIs(t, err, ErrDecrypt)
	_, err = b.Open(a, "signing_key:A ")
	require.ErrorIs(t, err, ErrDecrypt)
	got, err := b.Open(a, "signing_key:A")
	require.NoError(t, err)
	require.Equal(t, "key of A", string(got))
}

func TestWrongKey(t *testing.T) {
	b1 := newBox(t, newKey(t))
	b2 := newBox(t, newKey(t))
	s, err := b1.Seal([]byte("x"), "aad")
	require.NoError(t, err)
	_, err = b2.Open(s, "aad")
	require.ErrorIs(t, err, ErrUnknownKey)
	// A value relabelled with b2's key id still fails (authentication).
	relabelled := "v1." + b2.KeyID() + s[11:]
	_, err = b2.Open(relabelled, "aad")
	require.ErrorIs(t, err, ErrDecrypt)
}

func TestRotation(t *testing.T) {
	oldKey, newKey2 := newKey(t), newKey(t)
	oldBox := newBox(t, oldKey)
	sOld, err := oldBox.Seal([]byte("old secret"), "c:1")
	require.NoError(t, err)

	rotated := newBox(t, newKey2, oldKey)
	// Opens values sealed with the previous key...
	got, err := rotated.Open(sOld, "c:1")
	require.NoError(t, err)
	require.Equal(t, "old secret", string(got))
	require.True(t, rotated.NeedsReseal(sOld))
	// ...but seals with the new one only.
	sNew, err := rotated.Seal([]byte("new secret"), "c:1")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(sNew, "v1."+KeyID(newKey2)+"."))
	require.False(t, rotated.NeedsReseal(sNew))
	_, err = oldBox.Open(sNew, "c:1")
	require.ErrorIs(t, err, ErrUnknownKey)
	// Once the previous key is dropped, old values no longer open.
	dropped := newBox(t, newKey2)
	_, err = dropped.Open(sOld, "c:1")
	require.ErrorIs(t, err, ErrUnknownKey)
	// Duplicate previous keys are harmless.
	dup := newBox(t, newKey2, newKey2, oldKey, oldKey)
	_, err = dup.Open(sOld, "c:1")
	require.NoError(t, err)
}

func TestNewBoxRejectsBadKeys(t *testing.T) {
	good := newKey(t)
	for name, k := range map[string][]byte{
		"nil":      nil,
		"empty":    {},
		"16 bytes": make([]byte, 16)[:16],
		"31 bytes": good[:31],
		"33 bytes": append(append([]byte(nil), good...), 1),
		"64 bytes": bytes.Repeat(good, 2),
		"all zero": make([]byte, 32),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewBox(k)
			require.ErrorIs(t, err, ErrInvalidKey)
			_, err = NewBox(good, k)
			require.ErrorIs(t, err, ErrInvalidKey)
			require.Contains(t, err.Error(), "previous key 1")
		})
	}
	_, err := NewBox(good[:31])
	require.ErrorContains(t, err, "31 bytes, must be exactly 32")
}

func TestZeroBox(t *testing.T) {
	for _, b := range []*Box{nil, {}} {
		require.NotPanics(t, func() {
			_, err := b.Seal([]byte("x"), "a")
			require.Error(t, err)
			_, err = b.Open("v1.00000000.AAAA", "a")
			require.Error(t, err)
			require.True(t, b.NeedsReseal("v1.00000000.AAAA"))
			require.Empty(t, b.KeyID())
		})
	}
}

func TestNewBoxCopiesKey(t *testing.T) {
	k := newKey(t)
	b := newBox(t, k)
	s, err := b.Seal([]byte("x"), "")
	require.NoError(t, err)
	k[0] ^= 0xff // caller reuses its buffer
	_, err = b.Open(s, "")
	require.NoError(t, err)
}

func TestOpenBadInputs(t *testing.T) {
	b := newBox(t, newKey(t))
	good, err := b.Seal([]byte("payload"), "aad")
	require.NoError(t, err)
	id := b.KeyID()
	data := good[12:]
	short := base64.RawURLEncoding.EncodeToString(make([]byte, nonceSize+tagSize-1))
	minimal := base64.RawURLEncoding.EncodeToString(make([]byte, nonceSize+tagSize))
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"just version", "v1", ErrMalformed},
		{"version dot", "v1.", ErrMalformed},
		{"no data", "v1." + id, ErrMalformed},
		{"empty data", "v1." + id + ".", ErrMalformed},
		{"unknown version", "v2." + id + "." + data, ErrMalformed},
		{"upper version", "V1." + id + "." + data, ErrMalformed},
		{"upper-case key id", "v1." + strings.ToUpper("abcdef12") + "." + data, ErrMalformed},
		{"short key id", "v1." + id[:7] + "." + data, ErrMalformed},
		{"long key id", "v1." + id + "0." + data, ErrMalformed},
		{"non-hex key id", "v1.zzzzzzzz." + data, ErrMalformed},
		{"std base64 chars", "v1." + id + "." + strings.Repeat("+/", 20), ErrMalformed},
		{"padding", "v1." + id + "." + data + "=", ErrMalformed},
		{"newline inside", "v1." + id + "." + data[:10] + "\n" + data[10:], ErrMalformed},
		{"extra dot", "v1." + id + "." + data + ".x", ErrMalformed},
		{"too short", "v1." + id + "." + short, ErrMalformed},
		{"zero nonce+tag", "v1." + id + "." + minimal, ErrDecrypt},
		{"unknown key id", "v1.00000000." + data, ErrUnknownKey},
		{"binary junk", "\x00\xff\xfe", ErrMalformed},
		{"utf8 junk", "v1.ééééé.ü", ErrMalformed},
		{"huge", "v1." + id + "." + strings.Repeat("A", 1<<20), ErrDecrypt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []byte
			var err error
			require.NotPanics(t, func() { got, err = b.Open(c.in, "aad") })
			require.Error(t, err)
			require.Nil(t, got)
			require.True(t, errors.Is(err, c.want), "got %v, want %v", err, c.want)
			require.NotContains(t, err.Error(), "payload")
		})
	}
}

func TestParseKey(t *testing.T) {
	key := newKey(t)
	// Make sure the key has bytes that differ between alphabets and needs padding.
	key[0], key[1], key[2] = 0xfb, 0xff, 0xbf
	for name, s := range map[string]string{
		"std padded":    base64.StdEncoding.EncodeToString(key),
		"std raw":       base64.RawStdEncoding.EncodeToString(key),
		"url padded":    base64.URLEncoding.EncodeToString(key),
		"url raw":       base64.RawURLEncoding.EncodeToString(key),
		"with newline":  base64.StdEncoding.EncodeToString(key) + "\n",
		"with spaces":   "  " + base64.StdEncoding.EncodeToString(key) + " \t",
		"crlf (dotenv)": base64.RawURLEncoding.EncodeToString(key) + "\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseKey(s)
			require.NoError(t, err)
			require.Equal(t, key, got)
		})
	}
}

func TestParseKeyBadInputs(t *testing.T) {
	key := newKey(t)
	hexKey := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for name, s := range map[string]string{
		"empty":            "",
		"blank":            "   \n",
		"16 bytes":         base64.StdEncoding.EncodeToString(key[:16]),
		"31 bytes":         base64.StdEncoding.EncodeToString(key[:31]),
		"33 bytes":         base64.StdEncoding.EncodeToString(append(append([]byte(nil), key...), 0)),
		"hex of 32 bytes":  hexKey,
		"not base64":       "this is not base64!!",
		"mixed alphabets":  "+" + base64.RawURLEncoding.EncodeToString(key)[1:10] + "_" + base64.RawURLEncoding.EncodeToString(key)[11:],
		"bad padding":      base64.RawStdEncoding.EncodeToString(key) + "==",
		"inner whitespace": base64.StdEncoding.EncodeToString(key)[:10] + " " + base64.StdEncoding.EncodeToString(key)[10:],
		"passphrase":       "correct horse battery staple",
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = ParseKey(s) })
			require.ErrorIs(t, err, ErrInvalidKey)
			require.ErrorContains(t, err, "ENCRYPTION_KEY must be base64 of 32 bytes")
			if len(s) > 8 {
				require.NotContains(t, err.Error(), strings.TrimSpace(s), "the error must not echo the key")
			}
		})
	}
}
