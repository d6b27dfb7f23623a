package channel

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// SMTPConfig says how e-mail leaves: the relay, the sender and how to
// authenticate and encrypt.
type SMTPConfig struct {
	Addr               string // host:port
	From               string
	Username, Password string // PLAIN authentication when Username is set
	// TLS is "starttls" (the default: upgrade, and refuse a server that
	// cannot), "implicit" (TLS from the first byte, port 465 style) or
	// "none" (plain text; for a relay on loopback).
	TLS       string
	TLSConfig *tls.Config   // optional; ServerName defaults to Addr's host
	Timeout   time.Duration // per delivery; default 30 s
	HeloName  string        // default "localhost"
}

// Email sends each delivery as one e-mail to the subscription's address,
// with a plain-text and an HTML part.
type Email struct {
	Config SMTPConfig
}

// Send delivers d over SMTP. An SMTP 4xx reply and connection errors are
// retried; a 5xx reply is permanent.
func (e Email) Send(ctx context.Context, d *Delivery) Result {
	to, err := mail.ParseAddress(d.Endpoint)
	if err != nil {
		return Result{Err: fmt.Errorf("endpoint %q is not an e-mail address: %w", d.Endpoint, err), Permanent: true}
	}
	msg, err := EmailMessage(e.Config.From, to.Address, d)
	if err != nil {
		return Result{Err: err, Permanent: true}
	}
	if err := e.send(ctx, to.Address, msg); err != nil {
		var tp *textproto.Error
		if errors.As(err, &tp) {
			return Result{Status: tp.Code, Err: err, Permanent: tp.Code >= 500}
		}
		return Result{Err: err}
	}
	return Result{Status: 250}
}

func (e Email) send(ctx context.Context, to string, msg []byte) error {
	c := e.Config
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("notify.smtp.addr %q: %w", c.Addr, err)
	}
	tlsConfig := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if c.TLSConfig != nil {
		tlsConfig = c.TLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = host
		}
	}
	var conn net.Conn
	dialer := &net.Dialer{}
	if c.TLS == "implicit" {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", c.Addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", c.Addr)
	}
	if err != nil {
		return fmt.Errorf("connect to SMTP server %s: %w", c.Addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	client, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer client.Close()
	helo := c.HeloName
	if helo == "" {
		helo = "localhost"
	}
	if err := client.Hello(helo); err != nil {
		return err
	}
	if c.TLS == "" || c.TLS == "starttls" {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return fmt.Errorf("SMTP server %s does not offer STARTTLS; set notify.smtp.tls to implicit for a TLS port, or none for a loopback relay", c.Addr)
		}
		if err := client.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("STARTTLS with %s: %w", c.Addr, err)
		}
	}
	if c.Username != "" {
		// net/smtp refuses PLAIN over an unencrypted connection except to
		// localhost, which protects the password.
		if err := client.Auth(smtp.PlainAuth("", c.Username, c.Password, host)); err != nil {
			return fmt.Errorf("SMTP authentication as %s: %w", c.Username, err)
		}
	}
	if err := client.Mail(addressOf(c.From)); err != nil {
		return err
	}
	if err := client.Rcpt(to); err != nil {
		return err
	}
	w, err := client.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return client.Quit()
}

func addressOf(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Address
	}
	return s
}

// EmailMessage renders d as an RFC 5322 message: a multipart/alternative
// of text/plain and text/html. The Message-ID derives from the message id,
// so a retry carries the same one and mail clients thread duplicates.
func EmailMessage(from, to string, d *Delivery) ([]byte, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from)
	header("To", to)
	header("Subject", mime.QEncoding.Encode("utf-8", subject(d)))
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+d.MessageID+"@mirador>")
	header("X-Mirador-Message-Id", d.MessageID)
	header("MIME-Version", "1.0")
	header("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", plainText(d)}, {"text/html", htmlText(d)}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var stateColour = map[string]string{StateAlarm: "#c0392b", StateOK: "#27ae60", StateInsufficientData: "#7f8c8d"}

// htmlText is the text/html rendering; every piece of user text is escaped.
func htmlText(d *Delivery) string {
	esc := html.EscapeString
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">")
	if len(d.Alarms) == 0 {
		fmt.Fprintf(&b, "<pre style=\"white-space:pre-wrap\">%s</pre>", esc(d.Message))
	}
	for _, a := range d.Alarms {
		fmt.Fprintf(&b, "<h2 style=\"color:%s\">%s</h2>", stateColour[a.NewState], esc(title(a)))
		if n := note(a); n != "" {
			fmt.Fprintf(&b, "<p><strong>%s</strong></p>", esc(n))
		}
		if a.AlarmDescription != "" {
			fmt.Fprintf(&b, "<p>%s</p>", esc(a.AlarmDescription))
		}
		fmt.Fprintf(&b, "<p>%s</p><p style=\"color:#555\">%s</p>", esc(a.Reason), esc(when(a.Time)))
		if a.Link != "" {
			fmt.Fprintf(&b, "<p><a href=\"%s\">Open in Mirador</a></p>", esc(a.Link))
		}
	}
	b.WriteString("</body></html>")
	return b.String()
}
