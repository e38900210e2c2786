package stsfake_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

const (
	testRole     = "arn:aws:iam::111122223333:role/gha-deploy"
	testAudience = "sts.amazonaws.com"
	testSubject  = "repo:octo-org/octo-repo:ref:refs/heads/main"
)

type env struct {
	issuer *exchangetest.Issuer
	fake   *stsfake.Server
	srv    *httptest.Server
	now    time.Time
}

func newEnv(t *testing.T, mutate func(*stsfake.Config)) *env {
	t.Helper()
	is := exchangetest.StartIssuer(t, "")
	now := time.Now().UTC().Truncate(time.Second)
	cfg := stsfake.Config{
		Issuer:  is.URL,
		KeySet:  is.KeySet(t.Context()),
		RoleARN: testRole,
		Trust:   stsfake.TrustPolicy{Audience: testAudience, Subjects: []string{"repo:octo-org/octo-repo:ref:refs/heads/*"}},
		Now:     func() time.Time { return now },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	fake, err := stsfake.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &env{issuer: is, fake: fake, srv: srv, now: now}
}

func (e *env) token(overrides map[string]any) string {
	return e.issuer.Mint(testAudience, e.now, overrides)
}

func (e *env) form(token string) url.Values {
	return url.Values{
		"Action":           {"AssumeRoleWithWebIdentity"},
		"Version":          {"2011-06-15"},
		"RoleArn":          {testRole},
		"RoleSessionName":  {"GitHubActions-19677834613-1"},
		"WebIdentityToken": {token},
		"DurationSeconds":  {"3600"},
	}
}

// reply is what the tests read of an answer: post reads and closes the
// body itself, so no *http.Response (and no open body) escapes it.
type reply struct {
	StatusCode int
	Header     http.Header
}

func (e *env) post(t *testing.T, method, body string, header http.Header) (reply, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{StatusCode: resp.StatusCode, Header: resp.Header}, b
}

type successDoc struct {
	XMLName xml.Name `xml:"AssumeRoleWithWebIdentityResponse"`
	Result  struct {
		SubjectFromWebIdentityToken string
		Audience                    string
		Provider                    string
		PackedPolicySize            int
		AssumedRoleUser             struct {
			Arn           string
			AssumedRoleID string `xml:"AssumedRoleId"`
		}
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
	} `xml:"AssumeRoleWithWebIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type errorDoc struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	Request string   `xml:"RequestId"`
}

func TestSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	form := e.form(e.token(nil))
	form.Set("Policy", `{"Version":"2012-10-17","Statement":[]}`)
	form.Set("PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	resp, body := e.post(t, http.MethodPost, form.Encode(), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/xml" {
		t.Errorf("Content-Type = %q, want text/xml", got)
	}
	if !strings.Contains(string(body), `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`) {
		t.Errorf("root element lacks the STS namespace:\n%s", body)
	}
	var doc successDoc
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	r := doc.Result
	checks := []struct {
		name string
		ok   bool
	}{
		{"subject", r.SubjectFromWebIdentityToken == testSubject},
		{"audience", r.Audience == testAudience},
		{"provider is the issuer", r.Provider == e.issuer.URL},
		{"packed policy size", r.PackedPolicySize > 0},
		{"arn", r.AssumedRoleUser.Arn == "arn:aws:sts::111122223333:assumed-role/gha-deploy/GitHubActions-19677834613-1"},
		{"role id", regexp.MustCompile(`^AROA[A-Z0-9]{17}:GitHubActions-19677834613-1$`).MatchString(r.AssumedRoleUser.AssumedRoleID)},
		{"access key id", regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`).MatchString(r.Credentials.AccessKeyID)},
		{"secret has / and +", len(r.Credentials.SecretAccessKey) == 40 && strings.ContainsAny(r.Credentials.SecretAccessKey, "/") && strings.Contains(r.Credentials.SecretAccessKey, "+")},
		{"session token", len(r.Credentials.SessionToken) > 100},
		{"expiration", r.Credentials.Expiration == e.now.Add(time.Hour).Format(time.RFC3339)},
		{"request id", doc.RequestID != "" && doc.RequestID == resp.Header.Get("X-Amzn-Requestid")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: unexpected response\n%s", c.name, body)
		}
	}

	reqs := e.fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("recorded %d requests, want 1", len(reqs))
	}
	if diff := cmp.Diff(form, reqs[0].Form); diff != "" {
		t.Errorf("recorded form (-want +got):\n%s", diff)
	}
	if reqs[0].Code != "" || reqs[0].Issued == nil || reqs[0].Issued.AccessKeyID != r.Credentials.AccessKeyID {
		t.Errorf("recorded outcome = %q, %+v", reqs[0].Code, reqs[0].Issued)
	}
}

func TestCredentialsDifferPerCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seen := map[string]bool{}
	for range 3 {
		_, body := e.post(t, http.MethodPost, e.form(e.token(nil)).Encode(), nil)
		var doc successDoc
		if err := xml.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		c := doc.Result.Credentials
		for _, v := range []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken} {
			if seen[v] {
				t.Fatalf("value issued twice: %s", v)
			}
			seen[v] = true
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *stsfake.Config) { c.MaxSessionDuration = 7200 })
	good := e.token(nil)
	other := exchangetest.StartIssuer(t, "")

	tests := []struct {
		name   string
		method string
		edit   func(url.Values)
		header http.Header
		code   string
		status int
		typ    string
	}{
		{name: "GET", method: http.MethodGet, code: "ValidationError", status: 400},
		{name: "signed", header: http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=AKIA..."}}, code: "ValidationError", status: 400},
		{name: "json body", header: http.Header{"Content-Type": {"application/json"}}, code: "ValidationError", status: 400},
		{name: "no action", edit: func(f url.Values) { f.Del("Action") }, code: "ValidationError", status: 400},
		{name: "other action", edit: func(f url.Values) { f.Set("Action", "AssumeRoleWithSAML") }, code: "InvalidAction", status: 400},
		{name: "unsigned AssumeRole", edit: func(f url.Values) { f.Set("Action", "AssumeRole") }, code: "MissingAuthenticationToken", status: 403},
		{name: "other version", edit: func(f url.Values) { f.Set("Version", "2010-01-01") }, code: "InvalidAction", status: 400},
		{name: "no role", edit: func(f url.Values) { f.Del("RoleArn") }, code: "ValidationError", status: 400},
		{name: "no session", edit: func(f url.Values) { f.Del("RoleSessionName") }, code: "ValidationError", status: 400},
		{name: "no token", edit: func(f url.Values) { f.Del("WebIdentityToken") }, code: "ValidationError", status: 400},
		{name: "repeated field", edit: func(f url.Values) { f.Add("RoleArn", testRole) }, code: "ValidationError", status: 400},
		{name: "session too short", edit: func(f url.Values) { f.Set("RoleSessionName", "a") }, code: "ValidationError", status: 400},
		{name: "session too long", edit: func(f url.Values) { f.Set("RoleSessionName", strings.Repeat("a", 65)) }, code: "ValidationError", status: 400},
		{name: "session charset", edit: func(f url.Values) { f.Set("RoleSessionName", "a b") }, code: "ValidationError", status: 400},
		{name: "duration not a number", edit: func(f url.Values) { f.Set("DurationSeconds", "1h") }, code: "ValidationError", status: 400},
		{name: "duration too short", edit: func(f url.Values) { f.Set("DurationSeconds", "899") }, code: "ValidationError", status: 400},
		{name: "duration too long", edit: func(f url.Values) { f.Set("DurationSeconds", "43201") }, code: "ValidationError", status: 400},
		{name: "duration over role max", edit: func(f url.Values) { f.Set("DurationSeconds", "7201") }, code: "ValidationError", status: 400},
		{name: "bad role arn", edit: func(f url.Values) { f.Set("RoleArn", "not-an-arn-but-long-enough") }, code: "ValidationError", status: 400},
		{name: "policy not json", edit: func(f url.Values) { f.Set("Policy", "{nope") }, code: "MalformedPolicyDocument", status: 400},
		{name: "policy too long", edit: func(f url.Values) { f.Set("Policy", `{"a":"`+strings.Repeat("x", 2048)+`"}`) }, code: "ValidationError", status: 400},
		{name: "bad policy arn", edit: func(f url.Values) { f.Set("PolicyArns.member.1.arn", "arn:aws:s3:::bucket") }, code: "ValidationError", status: 400},
		{name: "bad policy member", edit: func(f url.Values) { f.Set("PolicyArns.member.x.arn", "arn:aws:iam::aws:policy/A") }, code: "ValidationError", status: 400},
		{name: "garbage token", edit: func(f url.Values) { f.Set("WebIdentityToken", "not.a.jwt") }, code: "InvalidIdentityToken", status: 400},
		{name: "foreign signature", edit: func(f url.Values) {
			claims := exchangetest.GitHubClaims(e.issuer.URL, testAudience, e.now, nil)
			f.Set("WebIdentityToken", other.Sign(claims))
		}, code: "InvalidIdentityToken", status: 400},
		{name: "wrong audience", edit: func(f url.Values) {
			f.Set("WebIdentityToken", e.issuer.Mint("https://github.com/octo-org", e.now, nil))
		}, code: "InvalidIdentityToken", status: 400},
		{name: "expired", edit: func(f url.Values) {
			f.Set("WebIdentityToken", e.issuer.Mint(testAudience, e.now.Add(-10*time.Minute), nil))
		}, code: "ExpiredTokenException", status: 400},
		{name: "other role", edit: func(f url.Values) { f.Set("RoleArn", "arn:aws:iam::111122223333:role/other") }, code: "AccessDenied", status: 403},
		{name: "other subject", edit: func(f url.Values) {
			f.Set("WebIdentityToken", e.token(map[string]any{"sub": "repo:evil/repo:ref:refs/heads/main"}))
		}, code: "AccessDenied", status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := e.form(good)
			if tt.edit != nil {
				tt.edit(form)
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			resp, body := e.post(t, method, form.Encode(), tt.header)
			var doc errorDoc
			if err := xml.Unmarshal(body, &doc); err != nil {
				t.Fatalf("not an ErrorResponse: %v\n%s", err, body)
			}
			want := errorDoc{Type: "Sender", Code: tt.code, Message: doc.Message, Request: doc.Request}
			got := doc
			got.XMLName = xml.Name{}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if doc.Message == "" || doc.Request == "" {
				t.Errorf("empty message or request id:\n%s", body)
			}
			if strings.Contains(string(body), good) {
				t.Error("the answer echoes the token")
			}
		})
	}
}

func TestScriptedFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.fake.FailNext(
		stsfake.Failure{Code: "Throttling", Message: "Rate exceeded"},
		stsfake.Failure{Code: "ServiceUnavailable", Message: "Service unavailable"},
		stsfake.Failure{Status: 502, Code: "BadGateway", Message: "x", Type: "Sender"},
	)
	want := []struct {
		status int
		typ    string
		code   string
	}{{400, "Sender", "Throttling"}, {503, "Receiver", "ServiceUnavailable"}, {502, "Sender", "BadGateway"}}
	form := e.form(e.token(nil)).Encode()
	for i, w := range want {
		resp, body := e.post(t, http.MethodPost, form, nil)
		var doc errorDoc
		if err := xml.Unmarshal(body, &doc); err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if resp.StatusCode != w.status || doc.Type != w.typ || doc.Code != w.code {
			t.Errorf("answer %d = %d %s %s, want %d %s %s", i, resp.StatusCode, doc.Type, doc.Code, w.status, w.typ, w.code)
		}
	}
	if resp, body := e.post(t, http.MethodPost, form, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the script: %d %s", resp.StatusCode, body)
	}
	var codes []string
	for _, r := range e.fake.Requests() {
		codes = append(codes, r.Code)
	}
	if diff := cmp.Diff([]string{"Throttling", "ServiceUnavailable", "BadGateway", ""}, codes); diff != "" {
		t.Errorf("recorded codes (-want +got):\n%s", diff)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const d = 50 * time.Millisecond
	e.fake.SetLatency(d)
	start := time.Now()
	if resp, body := e.post(t, http.MethodPost, e.form(e.token(nil)).Encode(), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if el := time.Since(start); el < d {
		t.Errorf("answered after %v, want at least %v", el, d)
	}
}

func TestRequestsAreCopies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.post(t, http.MethodPost, e.form(e.token(nil)).Encode(), nil)
	first := e.fake.Requests()
	first[0].Form.Set("RoleArn", "changed")
	first[0].Header.Set("X-Changed", "1")
	first[0].Issued.AccessKeyID = "changed"
	again := e.fake.Requests()[0]
	if again.Form.Get("RoleArn") != testRole || again.Header.Get("X-Changed") != "" || again.Issued.AccessKeyID == "changed" {
		t.Error("Requests returned shared state")
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	keys := oidc.NewRemoteKeySet(t.Context(), "http://127.0.0.1:1/keys")
	good := stsfake.Config{Issuer: "http://127.0.0.1:1", KeySet: keys, RoleARN: testRole, Trust: stsfake.TrustPolicy{Audience: testAudience}}
	tests := []struct {
		name string
		edit func(*stsfake.Config)
		ok   bool
	}{
		{"good", func(*stsfake.Config) {}, true},
		{"no issuer", func(c *stsfake.Config) { c.Issuer = "" }, false},
		{"no keys", func(c *stsfake.Config) { c.KeySet = nil }, false},
		{"no audience", func(c *stsfake.Config) { c.Trust.Audience = "" }, false},
		{"bad role", func(c *stsfake.Config) { c.RoleARN = "arn:aws:iam::111122223333:user/x" }, false},
		{"bad max", func(c *stsfake.Config) { c.MaxSessionDuration = 60 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.edit(&cfg)
			s, err := stsfake.New(cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New() error = %v, want ok = %v", err, tt.ok)
			}
			if err == nil && s.AccountID() != "111122223333" {
				t.Errorf("AccountID() = %q", s.AccountID())
			}
		})
	}
}

// TestSDK drives the real SDK client against the fake, so the fake's XML is
// known to parse the way production answers do.
func TestSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	client := sts.New(sts.Options{
		Region:       "us-east-1",
		Credentials:  aws.AnonymousCredentials{},
		HTTPClient:   e.srv.Client(),
		BaseEndpoint: aws.String(e.srv.URL),
		Retryer:      aws.NopRetryer{},
	})
	in := &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(testRole),
		RoleSessionName:  aws.String("sdk-test"),
		WebIdentityToken: aws.String(e.token(nil)),
	}
	out, err := client.AssumeRoleWithWebIdentity(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::111122223333:assumed-role/gha-deploy/sdk-test" {
		t.Errorf("Arn = %q", got)
	}
	if got := aws.ToTime(out.Credentials.Expiration); !got.Equal(e.now.Add(time.Hour)) {
		t.Errorf("Expiration = %v, want %v", got, e.now.Add(time.Hour))
	}
	if got := aws.ToString(out.SubjectFromWebIdentityToken); got != testSubject {
		t.Errorf("SubjectFromWebIdentityToken = %q", got)
	}

	e.fake.FailNext(stsfake.Failure{Code: "IDPCommunicationError", Message: "Couldn't retrieve verification key from your identity provider"})
	_, err = client.AssumeRoleWithWebIdentity(t.Context(), in)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "IDPCommunicationError" || apiErr.ErrorFault() != smithy.FaultClient {
		t.Errorf("error = %v, want an IDPCommunicationError client fault", err)
	}
	if auth := e.fake.Requests()[0].Header.Get("Authorization"); auth != "" {
		t.Errorf("the SDK signed the call: %q", auth)
	}
}

// FuzzServeHTTP checks that any body gets a well-formed STS answer and
// never a panic. It verifies with a static key set, so fuzzing makes no
// network calls.
func FuzzServeHTTP(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	const issuer = "https://token.actions.githubusercontent.com"
	fake, err := stsfake.New(stsfake.Config{
		Issuer:  issuer,
		KeySet:  &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{key.Public()}},
		RoleARN: testRole,
		Trust:   stsfake.TrustPolicy{Audience: testAudience, Subjects: []string{"*"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	claims, err := json.Marshal(exchangetest.GitHubClaims(issuer, testAudience, time.Now(), nil))
	if err != nil {
		f.Fatal(err)
	}
	tok := oidctest.SignIDToken(key, "k1", oidc.RS256, string(claims))
	f.Add("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + url.QueryEscape(testRole) + "&RoleSessionName=ab&WebIdentityToken=" + tok)
	f.Add("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=x&RoleSessionName=ab&WebIdentityToken=a.b.c&PolicyArns.member.1.arn=%")
	f.Add("PolicyArns.member.0.arn=arn:aws:iam::aws:policy/x&Policy=[]")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var doc successDoc
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Result.Credentials.AccessKeyID == "" {
				t.Fatalf("200 without credentials: %v\n%s", err, rec.Body)
			}
		case http.StatusBadRequest, http.StatusForbidden:
			var doc errorDoc
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Code == "" || doc.Message == "" {
				t.Fatalf("%d without an ErrorResponse: %v\n%s", rec.Code, err, rec.Body)
			}
		default:
			t.Fatalf("unexpected status %d", rec.Code)
		}
	})
}
