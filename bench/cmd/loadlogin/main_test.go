package main

import (
	"bytes"
	"context"
	"testing"
)

// TestFlags refuses bad flags before starting anything.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--alg", "HS256"},
		{"--concurrency", "-1"},
		{"--users", "0"},
		{"--count", "0"},
		{"--duration", "0s"},
		{"--refresh-duration", "-1s"},
		{"--hash-duration", "-1s"},
		{"extra"},
		{"--no-such-flag"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
