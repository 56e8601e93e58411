package backtest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
)

// ResponseLimits bound what one response of the server may hold; zero
// fields take the budget package's defaults. A response over one is an
// *Error of KindTooLarge wrapping a *budget.ExceededError.
type ResponseLimits struct {
	// Bytes bounds a response body, after decompression (a gzip bomb is
	// cut off there): budget.ResponseBytes.
	Bytes int64
	// Series bounds the series of one query's result: budget.ResponseSeries.
	Series int
	// Samples bounds the samples (floats and histograms) of one query's
	// result: budget.ResponseSamples.
	Samples int64
}

func (l ResponseLimits) withDefaults() ResponseLimits {
	if l.Bytes <= 0 {
		l.Bytes = budget.DefaultResponseBytes
	}
	if l.Series <= 0 {
		l.Series = budget.DefaultResponseSeries
	}
	if l.Samples <= 0 {
		l.Samples = budget.DefaultResponseSamples
	}
	return l
}

// tooLarge is the error for a response over a budget.
func tooLarge(base string, b budget.Name, limit, asked uint64, subject string) *Error {
	return &Error{Kind: KindTooLarge, URL: base, Msg: "the response is too large",
		Err: &budget.ExceededError{Budget: b, Limit: limit, Asked: asked, Subject: subject}}
}

// limitTransport bounds the bodies of the responses rt returns. It wraps
// the transport that decompresses, so the bytes counted are the
// decompressed ones.
type limitTransport struct {
	rt    http.RoundTripper
	limit int64
	base  string
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	if resp.ContentLength > t.limit {
		resp.Body.Close()
		return nil, tooLarge(t.base, budget.ResponseBytes, uint64(t.limit), uint64(resp.ContentLength),
			fmt.Sprintf("%d response bytes", resp.ContentLength))
	}
	resp.Body = &limitBody{rc: resp.Body, left: t.limit, limit: t.limit, base: t.base}
	return resp, nil
}

// limitBody fails a read past its limit.
type limitBody struct {
	rc          io.ReadCloser
	left, limit int64
	base        string
}

func (b *limitBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, b.err()
	}
	return n, err
}

func (b *limitBody) err() error {
	return tooLarge(b.base, budget.ResponseBytes, uint64(b.limit), uint64(b.limit)+1,
		fmt.Sprintf("more than %d response bytes", b.limit))
}

func (b *limitBody) Close() error { return b.rc.Close() }

// checkMatrix refuses a range query's result over the series or samples
// budget.
func (c *Client) checkMatrix(op string, m model.Matrix) error {
	lim := c.opts.Limits
	if len(m) > lim.Series {
		e := tooLarge(c.base, budget.ResponseSeries, uint64(lim.Series), uint64(len(m)), fmt.Sprintf("%d series in one response", len(m)))
		e.Op = op
		return e
	}
	var samples int64
	for _, s := range m {
		samples += int64(len(s.Values) + len(s.Histograms))
	}
	if samples > lim.Samples {
		e := tooLarge(c.base, budget.ResponseSamples, uint64(lim.Samples), uint64(samples), fmt.Sprintf("%d samples in one response", samples))
		e.Op = op
		return e
	}
	return nil
}

// checkVector refuses an instant query's result over the series budget.
func (c *Client) checkVector(op string, v model.Vector) error {
	if lim := c.opts.Limits; len(v) > lim.Series {
		e := tooLarge(c.base, budget.ResponseSeries, uint64(lim.Series), uint64(len(v)), fmt.Sprintf("%d series in one response", len(v)))
		e.Op = op
		return e
	}
	return nil
}

// ReadBearerTokenWithin reads a token file, as Prometheus'
// bearer_token_file, within l (a named pipe is read with a deadline, a
// device refused).
func ReadBearerTokenWithin(path string, l boundedio.Limits) (string, error) {
	b, err := boundedio.ReadFile(path, l)
	if err != nil {
		return "", fmt.Errorf("--bearer-token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--bearer-token-file %s: the file is empty", path)
	}
	if strings.ContainsAny(tok, "\r\n") {
		return "", fmt.Errorf("--bearer-token-file %s: more than one line", path)
	}
	return tok, nil
}

// ConfigWithin builds a TLS configuration, reading the files within l; nil
// when nothing is set.
func (o TLSOptions) ConfigWithin(l boundedio.Limits) (*tls.Config, error) {
	if o == (TLSOptions{}) {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: o.InsecureSkipVerify, ServerName: o.ServerName, MinVersion: tls.VersionTLS12} //nolint:gosec // asked for with --tls-insecure-skip-verify
	if o.CAFile != "" {
		pem, err := boundedio.ReadFile(o.CAFile, l)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca-file %s: no PEM certificate in it", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("--tls-cert-file and --tls-key-file go together: give both or neither")
	}
	if o.CertFile != "" {
		certPEM, err := boundedio.ReadFile(o.CertFile, l)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert-file: %w", err)
		}
		keyPEM, err := boundedio.ReadFile(o.KeyFile, l)
		if err != nil {
			return nil, fmt.Errorf("--tls-key-file: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert-file/--tls-key-file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
