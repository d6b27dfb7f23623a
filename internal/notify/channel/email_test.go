package channel

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailbox is an SMTP backend (go-smtp's server, a real SMTP
// implementation) that checks PLAIN credentials and keeps messages.
type mailbox struct {
	mu       sync.Mutex
	messages []string
	rcptErr  error
}

type session struct {
	box  *mailbox
	auth bool
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{box: b}, nil }

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "mirador" || pass != "s3cret" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.auth = true
		return nil
	}), nil
}
func (s *session) Mail(string, *smtp.MailOptions) error {
	if !s.auth {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	return nil
}
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return s.box.rcptErr }
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.box.mu.Lock()
	s.box.messages = append(s.box.messages, string(b))
	s.box.mu.Unlock()
	return err
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// startSMTP serves box on a loopback port: STARTTLS offered when
// starttls, TLS from the first byte when implicit, plain otherwise.
func startSMTP(t *testing.T, box *mailbox, mode string) (addr string, pool *x509.CertPool) {
	cert, pool := selfSigned(t)
	srv := smtp.NewServer(box)
	srv.Domain = "smtp.test"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "starttls":
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	case "implicit":
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	default:
		srv.AllowInsecureAuth = true
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), pool
}

func TestEmailOverSTARTTLSAndImplicitTLS(t *testing.T) {
	for _, mode := range []string{"starttls", "implicit"} {
		t.Run(mode, func(t *testing.T) {
			box := &mailbox{}
			addr, pool := startSMTP(t, box, mode)
			e := Email{Config: SMTPConfig{Addr: addr, From: "Mirador <alerts@mirador.test>", Username: "mirador", Password: "s3cret", TLS: mode, TLSConfig: &tls.Config{RootCAs: pool}}}
			d := alarmDelivery("oncall@example.com", cpuHigh)
			res := e.Send(context.Background(), d)
			if res.Err != nil || res.Status != 250 {
				t.Fatalf("send: %+v", res)
			}
			msg, err := mail.ReadMessage(strings.NewReader(box.messages[0]))
			if err != nil {
				t.Fatal(err)
			}
			subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if subj != `ALARM: "cpu <high> & hot"` || msg.Header.Get("Message-ID") != "<m-1@mirador>" || msg.Header.Get("To") != "oncall@example.com" {
				t.Errorf("headers %v (subject %q)", msg.Header, subj)
			}
			_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
			mr := multipart.NewReader(msg.Body, params["boundary"])
			parts := map[string]string{}
			for {
				p, err := mr.NextPart() // decodes quoted-printable
				if err != nil {
					break
				}
				b, _ := io.ReadAll(p)
				ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
				parts[ct] = string(b)
			}
			if txt := parts["text/plain"]; !strings.Contains(txt, "cpu <high> & hot: OK → ALARM") || !strings.Contains(txt, "Threshold Crossed") || !strings.Contains(txt, "Link: http://mirador.test/api/v1/alarms/cpu") {
				t.Errorf("text part %q", txt)
			}
			if h := parts["text/html"]; !strings.Contains(h, "cpu &lt;high&gt; &amp; hot") || strings.Contains(h, "<high>") || !strings.Contains(h, `href="http://mirador.test/api/v1/alarms/cpu"`) {
				t.Errorf("html part %q", h)
			}
		})
	}
}

func TestEmailFailures(t *testing.T) {
	box := &mailbox{}
	addr, pool := startSMTP(t, box, "starttls")
	cfg := SMTPConfig{Addr: addr, From: "alerts@mirador.test", Username: "mirador", Password: "wrong", TLS: "starttls", TLSConfig: &tls.Config{RootCAs: pool}}
	res := Email{Config: cfg}.Send(context.Background(), alarmDelivery("oncall@example.com", cpuHigh))
	if res.Status != 535 || !res.Permanent {
		t.Errorf("wrong password: %+v, want a permanent 535", res)
	}

	cfg.Password = "s3cret"
	box.rcptErr = &smtp.SMTPError{Code: 451, Message: "try again later"}
	res = Email{Config: cfg}.Send(context.Background(), alarmDelivery("oncall@example.com", cpuHigh))
	if res.Status != 451 || res.Permanent || res.Err == nil {
		t.Errorf("451: %+v, want a retry", res)
	}

	plain, _ := startSMTP(t, &mailbox{}, "none")
	res = Email{Config: SMTPConfig{Addr: plain, From: "a@b.c", TLS: "starttls"}}.Send(context.Background(), alarmDelivery("oncall@example.com", cpuHigh))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "does not offer STARTTLS") {
		t.Errorf("no STARTTLS: %+v", res)
	}
	res = Email{Config: cfg}.Send(context.Background(), alarmDelivery("not an address", cpuHigh))
	if !res.Permanent || res.Err == nil {
		t.Errorf("bad address: %+v", res)
	}
	var ne net.Error
	res = Email{Config: SMTPConfig{Addr: "127.0.0.1:1", From: "a@b.c", Timeout: time.Second}}.Send(context.Background(), alarmDelivery("x@example.com", cpuHigh))
	if res.Permanent || res.Err == nil || errors.As(res.Err, &ne) && ne.Timeout() {
		t.Errorf("connection refused: %+v, want a retry", res)
	}
}
