package password

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHashVerify(t *testing.T) {
	for _, h := range []Hasher{{}, {Algorithm: Bcrypt}} {
		hash, alg, err := h.Hash("correct horse")
		require.NoError(t, err)
		require.Equal(t, h.alg(), alg)
		ok, rehash, err := h.Verify(hash, alg, "correct horse")
		require.NoError(t, err)
		require.True(t, ok)
		require.False(t, rehash)
		ok, _, err = h.Verify(hash, alg, "correct horsE")
		require.NoError(t, err)
		require.False(t, ok)
		hash2, _, _ := h.Hash("correct horse")
		require.NotEqual(t, hash, hash2, "salted")
	}
}

func TestDefaultsMeetOWASP(t *testing.T) {
	hash, _, err := Hasher{}.Hash("pw")
	require.NoError(t, err)
	require.Contains(t, hash, "$argon2id$v=19$m=19456,t=2,p=1$")
	bh, _, err := Hasher{Algorithm: Bcrypt, BcryptCost: 4}.Hash("pw")
	require.NoError(t, err)
	require.Contains(t, bh, "$10$", "a cost below 10 is raised")
}

func TestUpgradeOnRisingParameters(t *testing.T) {
	old, alg, err := Hasher{Algorithm: Bcrypt}.Hash("pw")
	require.NoError(t, err)
	ok, rehash, err := Hasher{}.Verify(old, alg, "pw")
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, rehash, "bcrypt hashes are upgraded to argon2id")

	weak, alg, err := Hasher{ArgonMemoryKiB: 8192, ArgonTime: 1}.Hash("pw")
	require.NoError(t, err)
	ok, rehash, err = Hasher{}.Verify(weak, alg, "pw")
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, rehash)

	ok, rehash, err = Hasher{ArgonMemoryKiB: 8192, ArgonTime: 1}.Verify(weak, alg, "wrong")
	require.NoError(t, err)
	require.False(t, ok)
	require.False(t, rehash, "a wrong password never asks for a rehash")
}

func TestMalformedAndLimits(t *testing.T) {
	h := Hasher{}
	for _, bad := range []string{"", "$argon2id$", "$argon2id$v=19$m=x$a$b", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$2a$10$short"} {
		ok, _, err := h.Verify(bad, "", "pw")
		require.False(t, ok)
		require.Error(t, err, bad)
	}
	_, _, err := h.Hash(string(make([]byte, MaxLength+1)))
	require.ErrorIs(t, err, ErrTooLong)
	_, _, err = Hasher{Algorithm: Bcrypt}.Hash(string(make([]byte, 73)))
	require.Error(t, err)
	_, _, err = Hasher{Algorithm: "md5"}.Hash("pw")
	require.Error(t, err)
}

// BenchmarkHash measures the hash rate, the physical limit of logins.
func BenchmarkHash(b *testing.B) {
	for _, h := range []Hasher{{}, {Algorithm: Bcrypt}} {
		b.Run(h.alg(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				h.Hash("correct horse battery staple")
			}
		})
	}
}
