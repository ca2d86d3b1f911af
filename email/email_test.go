package email

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// smtpServer is a minimal SMTP peer on loopback that records one message.
func smtpServer(t *testing.T) (addr string, got chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	got = make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		r, w := bufio.NewReader(c), bufio.NewWriter(c)
		say := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
		say("220 test ESMTP")
		var data strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 test")
			case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
				say("250 ok")
			case cmd == "DATA":
				say("354 go on")
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
					data.WriteString(l)
				}
				say("250 queued")
			case cmd == "QUIT":
				say("221 bye")
				got <- data.String()
				return
			default:
				say("502 unknown")
			}
		}
	}()
	return ln.Addr().String(), got
}

func TestSMTPDelivers(t *testing.T) {
	addr, got := smtpServer(t)
	err := SMTP{Addr: addr, From: "auth@acme.test"}.Send(context.Background(), Message{To: "ann@acme.test",
		Subject: "Reset your password", Text: "Open https://acme.test/u/reset-password?ticket=abc\n", Template: ResetEmail})
	require.NoError(t, err)
	select {
	case msg := <-got:
		require.Contains(t, msg, "To: ann@acme.test")
		require.Contains(t, msg, "Subject: Reset your password")
		require.Contains(t, msg, "ticket=abc")
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
}

func TestSMTPRefusesHeaderInjectionAndFailsFast(t *testing.T) {
	err := SMTP{Addr: "127.0.0.1:1", From: "a@b"}.Send(context.Background(), Message{To: "x@y\r\nBcc: evil@z", Subject: "s"})
	require.ErrorContains(t, err, "header injection")
	start := time.Now()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	err = SMTP{Addr: dead, From: "a@b", Timeout: time.Second}.Send(context.Background(), Message{To: "x@y", Subject: "s"})
	require.Error(t, err)
	require.Less(t, time.Since(start), 3*time.Second)
}

func TestOutboxAndLog(t *testing.T) {
	o := &Outbox{}
	require.NoError(t, o.Send(context.Background(), Message{To: "a@b", Link: "l"}))
	require.Len(t, o.Messages(), 1)
	require.NoError(t, Log{}.Send(context.Background(), Message{To: "a@b", Link: "l"}))
}
