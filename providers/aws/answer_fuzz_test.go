package aws

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// answerSeed is a real-shaped AssumeRoleWithWebIdentity answer.
const answerSeed = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>repo:octo-org/octo-repo:ref:refs/heads/main</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::111122223333:assumed-role/gha-deploy/GitHubActions-1-1</Arn>
      <AssumedRoleId>AROAEXAMPLE:GitHubActions-1-1</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>IQoJb3JpZ2luX2VjEFUZZSESSIONTOKEN0123456789</SessionToken>
      <SecretAccessKey>fuzz/secret+key/0123456789abcdefghijklmn</SecretAccessKey>
      <Expiration>2099-01-02T03:04:05Z</Expiration>
      <AccessKeyId>ASIAFUZZEXAMPLE00001</AccessKeyId>
    </Credentials>
    <Provider>https://token.actions.githubusercontent.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`

// answerValues is what a decoder finds in an answer's credentials.
type answerValues struct {
	Result struct {
		Credentials struct {
			SessionToken, SecretAccessKey, AccessKeyID string
		}
	} `xml:"AssumeRoleWithWebIdentityResult"`
}

// FuzzSTSAnswer sends arbitrary answers through the real SDK client and the
// provider, from an endpoint set by sts-endpoint (so an answer without an
// account may be accepted). Whatever STS says: no panic; an accepted answer
// exports only plausible secrets, never shorter than the pipeline's floor;
// a refused one is classified, and its message never holds a credential
// value.
func FuzzSTSAnswer(f *testing.F) {
	f.Add(answerSeed, 200)
	f.Add(strings.Replace(answerSeed, "ASIAFUZZEXAMPLE00001", "1", 1), 200)
	f.Add(strings.Replace(answerSeed, "<Arn>arn:aws:sts::111122223333:assumed-role/gha-deploy/GitHubActions-1-1</Arn>", "<Arn></Arn>", 1), 200)
	f.Add(strings.Replace(answerSeed, "2099-01-02T03:04:05Z", "yesterday", 1), 200)
	f.Add(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`, 403)
	f.Add(`<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>`, 400)
	f.Add("", 200)
	f.Fuzz(func(t *testing.T, body string, status int) {
		if status < 200 || status > 599 {
			status = 200
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		defer srv.Close()
		cfg := validConfig()
		cfg.STSEndpoint = srv.URL
		cfg.DisableRetry = true
		cfg.HTTPClient = httpclient.New(httpclient.Options{})
		cfg.Now = func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		creds, err := p.Exchange(t.Context(), exchangetest.Identity(map[string]any{"sub": "x"}, "tok"), &exchange.Request{})
		var values answerValues
		_ = xml.Unmarshal([]byte(body), &values)
		if err != nil {
			// Every answer the provider understood is classified; only a
			// body the SDK cannot decode at all may stay internal.
			var pe *exchange.ProviderError
			if errors.As(err, &pe) && exchange.Classify(err) == exchange.ClassInternal {
				t.Fatalf("a provider error without a class: %v", err)
			}
			c := values.Result.Credentials
			for _, v := range []string{c.SessionToken, c.SecretAccessKey, c.AccessKeyID} {
				if len(v) >= exchange.MinSecretLength && strings.Contains(err.Error(), v) {
					t.Fatalf("the error %q holds a credential value", err)
				}
			}
			if creds != nil && (len(creds.Env) > 0 || len(creds.Outputs) > 0) {
				t.Fatalf("refused, yet exportable: %+v", creds)
			}
			return
		}
		for _, s := range creds.Secrets() {
			v := s.Reveal()
			if len(v) < 16 || strings.ContainsAny(v, " \t\r\n") {
				t.Fatalf("accepted the secret %q", v)
			}
		}
	})
}
