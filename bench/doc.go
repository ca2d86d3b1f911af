// Package bench measures the speed of authhero-go against the physical limit
// of its work: the client_credentials grant against the raw signature rate of
// the tenant's signing algorithm.
//
// Run starts an App in-process on a loopback TCP listener (real HTTP, fresh
// SQLite by default), provisions a tenant and a management client, drives
// POST /oauth/token from concurrent workers for a fixed duration after a
// warm-up, and measures in the same process the bare sign rate of the same
// algorithm and key size on GOMAXPROCS goroutines. The headline number is the
// ratio tokens/s ÷ signatures/s: 1.0 would mean the server does nothing but
// sign.
//
// The command bench/cmd/loadcc prints a Result as a table or JSON; the Go
// benchmarks in this package (BenchmarkClientCredentials, BenchmarkRawSign)
// use the same setup so that their ns/op compare directly.
//
// RunLogin (command bench/cmd/loadlogin) does the same for the user-facing
// grants: full browser logins (authorize, the identifier and password
// forms, the code exchange) against the argon2id Verify rate, and
// refresh-token grants with rotation against half the sign rate (a grant
// signs an access token and an ID token); BenchmarkLogin,
// BenchmarkRefreshGrant and BenchmarkPasswordVerify are its Go benchmarks.
//
// The load driver shares the CPU with the server it measures: its HTTP
// client work is counted against the server's throughput, so the ratio is a
// lower bound of what a server with the CPU to itself would reach.
package bench
