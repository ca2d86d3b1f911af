// Package email sends the tenant's transactional emails (verification,
// password reset, welcome) through a Sender: SMTP in production, a logger
// in development. Template names follow Auth0's email templates
// (https://auth0.com/docs/customize/email/email-templates).
package email

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"time"
)

// Template names, as Auth0 names them.
const (
	VerifyEmail  = "verify_email"
	ResetEmail   = "reset_email"
	WelcomeEmail = "welcome_email"
)

// Message is one email.
type Message struct {
	TenantID string
	From     string
	To       string
	Subject  string
	Text     string
	// Template is the Auth0 template name the message was rendered from.
	Template string
	// Link is the action link in the message (verification, reset), if any.
	Link string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Log is the development Sender: it writes each message, link included, to
// a logger instead of sending it.
type Log struct{ Logger *slog.Logger }

// Send logs m.
func (l Log) Send(ctx context.Context, m Message) error {
	lg := l.Logger
	if lg == nil {
		lg = slog.Default()
	}
	lg.InfoContext(ctx, "email (not sent: development sender)", "tenant", m.TenantID, "to", m.To,
		"template", m.Template, "subject", m.Subject, "link", m.Link)
	return nil
}

// Outbox is a Sender that keeps messages in memory, for tests and local
// tools that read the links.
type Outbox struct {
	mu   sync.Mutex
	msgs []Message
}

// Send stores m.
func (o *Outbox) Send(_ context.Context, m Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	return nil
}

// Messages returns the messages sent so far.
func (o *Outbox) Messages() []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Message(nil), o.msgs...)
}

// SMTP sends through an SMTP server with STARTTLS when offered and PLAIN
// auth when a user is set.
type SMTP struct {
	// Addr is host:port of the server.
	Addr string
	// Username and Password authenticate; empty means no auth.
	Username, Password string
	// From is the default sender address.
	From string
	// Timeout bounds one delivery; zero means 10s.
	Timeout time.Duration
}

// Send delivers m.
func (s SMTP) Send(ctx context.Context, m Message) error {
	from := m.From
	if from == "" {
		from = s.From
	}
	if strings.ContainsAny(m.To+from+m.Subject, "\r\n") {
		return fmt.Errorf("email: header injection refused")
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	conn.SetDeadline(time.Now().Add(timeout))
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("email: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(nil); err != nil {
			return fmt.Errorf("email: starttls: %w", err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("email: auth: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		from, m.To, m.Subject, strings.ReplaceAll(m.Text, "\n", "\r\n"))
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
