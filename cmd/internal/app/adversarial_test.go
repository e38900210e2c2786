package app

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	yaml "go.yaml.in/yaml/v3"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/oidcfake"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

// corpusCase is one entry of testdata/adversarial.yaml; the file's header
// says what each field means.
type corpusCase struct {
	Name      string            `yaml:"name"`
	About     string            `yaml:"about"`
	Header    *string           `yaml:"header"`
	Payload   *string           `yaml:"payload"`
	Claims    map[string]any    `yaml:"claims"`
	Sign      string            `yaml:"sign"`
	Token     *string           `yaml:"token"`
	Inputs    map[string]string `yaml:"inputs"`
	Discovery *issuerSpec       `yaml:"discovery"`
	JWKS      *issuerSpec       `yaml:"jwks"`
	STS       *stsSpec          `yaml:"sts"`
	Class     string            `yaml:"class"`
	Exit      int               `yaml:"exit"`
	Sent      string            `yaml:"sent"`
}

// issuerSpec is how the issuer answers discovery or the JWKS.
type issuerSpec struct {
	Status    int               `yaml:"status"`
	Body      string            `yaml:"body"`
	Size      int               `yaml:"size"`
	LatencyMS int               `yaml:"latency_ms"`
	Set       map[string]string `yaml:"set"`
	Keys      string            `yaml:"keys"`
}

// stsSpec is how STS answers.
type stsSpec struct {
	Shape     any      `yaml:"shape"`
	Fail      *failure `yaml:"fail"`
	FailFirst []string `yaml:"fail_first"`
	Raw       *rawSpec `yaml:"raw"`
}

type failure struct {
	Code    string `yaml:"code"`
	Status  int    `yaml:"status"`
	Message string `yaml:"message"`
}

type rawSpec struct {
	Status int    `yaml:"status"`
	Body   string `yaml:"body"`
	Size   int    `yaml:"size"`
}

// attacker is a key pair of the attacker's own, shared by every case.
var attacker = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "adversarial.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	if err := yaml.Unmarshal(b, &cases); err != nil {
		t.Fatalf("testdata/adversarial.yaml: %v", err)
	}
	names := map[string]bool{}
	for _, c := range cases {
		switch {
		case c.Name == "" || names[c.Name]:
			t.Fatalf("testdata/adversarial.yaml: case name %q is empty or repeated", c.Name)
		case c.Sent != "never" && c.Sent != "yes" && c.Sent != "maybe":
			t.Fatalf("case %q: sent is %q, not never, yes or maybe", c.Name, c.Sent)
		}
		names[c.Name] = true
	}
	return cases
}

// TestAdversarialCorpus runs every case of testdata/adversarial.yaml
// through the action's main step and checks what it promises: the class in
// the audit record, the exit code, whether STS received anything, nothing
// exported on failure, no secret in any output and no workflow command the
// action did not mean.
func TestAdversarialCorpus(t *testing.T) {
	t.Parallel()
	cases := loadCorpus(t)
	if len(cases) < 100 {
		t.Fatalf("the corpus has %d cases; it must keep at least 100", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			runCorpusCase(t, c)
		})
	}
}

func runCorpusCase(t *testing.T, c corpusCase) {
	var stsRequests atomic.Int32
	front := func(sts http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			stsRequests.Add(1)
			if c.STS != nil && c.STS.Raw != nil {
				writeRaw(w, c.STS.Raw.Status, c.STS.Raw.Body, c.STS.Raw.Size)
				return
			}
			sts.ServeHTTP(w, r)
		})
	}
	now := time.Now()
	var token string
	h := newHarness(t, harnessOptions{stsFront: front, mint: func(is *exchangetest.Issuer, _ string) string {
		if token == "" {
			token = buildToken(t, c, is, now)
		}
		return token
	}})
	// Keys of the attacker's own, served where a case's discovery points.
	attackerKeys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &attacker().PublicKey, KeyID: h.issuer.KeyID, Algorithm: "RS256", Use: "sig"}}})
	}))
	t.Cleanup(attackerKeys.Close)
	h.issuer.SetIntercept(issuerIntercept(c, h.issuer, attackerKeys.URL))
	prepareSTS(c, h)

	res, err := h.run(githubtest.Main, c.Inputs)

	if got := exitCode(err); got != c.Exit {
		t.Errorf("exit %d, want %d (%v)", got, c.Exit, err)
	}
	if got := auditClass(t, res); got != c.Class {
		t.Errorf("audit error_class %q, want %q", got, c.Class)
	}
	switch n := stsRequests.Load(); {
	case c.Sent == "never" && n != 0:
		t.Errorf("STS received %d requests; the token must be refused before anything is sent", n)
	case c.Sent == "yes" && n == 0:
		t.Error("STS received nothing; the token should have reached it")
	}
	if c.Exit != exitOK && len(res.Env) != 0 {
		t.Errorf("the failed run exported %v", slices.Sorted(maps.Keys(res.Env)))
	}
	res.AssertNoLeak(t, h.secrets()...)
	res.AssertNoInjectedCommands(t, allowedCommands...)
	if t.Failed() {
		t.Logf("log:\n%s\nstderr:\n%s", res.MaskedStdout, res.Stderr)
	}
}

// auditClass reads error_class from the audit record the action printed.
func auditClass(t *testing.T, res *githubtest.StepResult) string {
	t.Helper()
	for _, line := range strings.Split(res.Stdout, "\n") {
		if !strings.HasPrefix(line, `{"schema":"oidc-exchange/audit/v1"`) {
			continue
		}
		var rec struct {
			ErrorClass string `json:"error_class"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit record: %v", err)
		}
		return rec.ErrorClass
	}
	t.Fatal("no audit record in the log")
	return ""
}

// placeholders are the corpus's {{…}} names and their values, as
// old/new pairs for strings.NewReplacer.
func placeholders(is *oidcfake.Issuer, now time.Time) []string {
	unix := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	jwk, err := json.Marshal(jose.JSONWebKey{Key: &attacker().PublicKey, KeyID: "attacker", Algorithm: "RS256", Use: "sig"})
	if err != nil {
		panic(err)
	}
	return []string{
		"{{iss}}", is.URL, "{{iss_host}}", strings.TrimPrefix(is.URL, "http://"), "{{aud}}", apptest.Audience, "{{kid}}", is.KeyID,
		"{{now}}", unix(0), "{{exp}}", unix(5 * time.Minute), "{{past}}", unix(-10 * time.Minute), "{{hour}}", unix(time.Hour),
		"{{now_plus_4m}}", unix(4 * time.Minute), "{{attacker_jwk}}", string(jwk), "{{20k}}", strings.Repeat("a", 20_000),
		"{{invalid_utf8}}", "\xff",
	}
}

// buildToken makes a case's token: its claims, header, payload, signature
// and, for malformed cases, the whole text.
func buildToken(t *testing.T, c corpusCase, is *oidcfake.Issuer, now time.Time) string {
	t.Helper()
	pairs := placeholders(is, now)
	r := strings.NewReplacer(pairs...)
	claims := oidcfake.GitHubClaims(is.URL, apptest.Audience, now, nil)
	for k, v := range c.Claims {
		switch {
		case v == nil:
			delete(claims, k)
		case k == "many":
			for i := range v.(int) {
				claims[fmt.Sprintf("extra_claim_%03d", i)] = "v"
			}
		default:
			claims[k] = claimValue(v, r)
		}
	}
	inner := func(drop string) string {
		m := map[string]any{}
		for k, v := range claims {
			if k != drop {
				m[k] = v
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(strings.TrimPrefix(string(b), "{"), "}")
	}
	r = strings.NewReplacer(append(pairs, "{{claims}}", inner(""), "{{claims_without_exp}}", inner("exp"),
		"{{claims_without_aud}}", inner("aud"))...)

	header := `{"alg":"RS256","kid":"{{kid}}","typ":"JWT"}`
	if c.Header != nil {
		header = *c.Header
	}
	payload := "{ {{claims}} }"
	if c.Payload != nil {
		payload = *c.Payload
	}
	hb, pb := []byte(r.Replace(header)), []byte(r.Replace(payload))
	input := b64url(hb) + "." + b64url(pb)
	var sig []byte
	switch c.Sign {
	case "", "issuer", "bitflip", "truncate":
		parts := strings.Split(is.SignRaw(hb, pb), ".")
		var err error
		if sig, err = base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
			t.Fatal(err)
		}
		if c.Sign == "bitflip" {
			sig[len(sig)-1] ^= 1
		}
		if c.Sign == "truncate" {
			sig = sig[:64]
		}
	case "none":
	case "attacker":
		digest := sha256.Sum256([]byte(input))
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, attacker(), crypto.SHA256, digest[:]); err != nil {
			t.Fatal(err)
		}
	case "hs256-pubkey":
		der, err := x509.MarshalPKIXPublicKey(is.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		mac.Write([]byte(input))
		sig = mac.Sum(nil)
	default:
		t.Fatalf("case %q: unknown sign %q", c.Name, c.Sign)
	}
	tok := input + "." + b64url(sig)
	if c.Token == nil {
		return tok
	}
	parts := strings.Split(tok, ".")
	return strings.NewReplacer("{{h}}", parts[0], "{{p}}", parts[1], "{{s}}", parts[2]).Replace(*c.Token)
}

// claimValue turns a YAML claim override into a JSON value: a string that
// is only a time placeholder becomes that number, a string in quotes
// becomes the quoted text as a string (a number written as a string), any
// other value stays as YAML typed it.
func claimValue(v any, r *strings.Replacer) any {
	s, ok := v.(string)
	if !ok {
		if list, isList := v.([]any); isList {
			out := make([]any, len(list))
			for i, x := range list {
				out[i] = claimValue(x, r)
			}
			return out
		}
		return v
	}
	rendered := r.Replace(s)
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1 {
		if n, err := strconv.ParseInt(rendered, 10, 64); err == nil {
			return n
		}
	}
	if len(rendered) >= 2 && strings.HasPrefix(rendered, `"`) && strings.HasSuffix(rendered, `"`) {
		return rendered[1 : len(rendered)-1]
	}
	return rendered
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// issuerIntercept answers discovery and the JWKS as the case says.
func issuerIntercept(c corpusCase, is *oidcfake.Issuer, attackerJWKS string) oidcfake.Intercept {
	return func(w http.ResponseWriter, r *http.Request, serve http.Handler) bool {
		var spec *issuerSpec
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			spec = c.Discovery
		case strings.HasSuffix(r.URL.Path, "/keys"):
			spec = c.JWKS
		}
		if spec == nil {
			return false
		}
		if spec.LatencyMS > 0 {
			select {
			case <-time.After(time.Duration(spec.LatencyMS) * time.Millisecond):
			case <-r.Context().Done():
				return true
			}
		}
		switch {
		case spec.Status != 0 && spec.Status != http.StatusOK:
			http.Error(w, http.StatusText(spec.Status), spec.Status)
		case spec.Body != "" || spec.Size > 0:
			writeRaw(w, http.StatusOK, spec.Body, spec.Size)
		case spec.Set != nil:
			rec := httptest.NewRecorder()
			serve.ServeHTTP(rec, r)
			var doc map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return true
			}
			for k, v := range spec.Set {
				switch v {
				case "":
					delete(doc, k)
				case "attacker":
					doc[k] = attackerJWKS
				default:
					doc[k] = v
				}
			}
			writeJSON(w, doc)
		case spec.Keys != "":
			var set jose.JSONWebKeySet
			switch spec.Keys {
			case "empty":
				set.Keys = []jose.JSONWebKey{}
			case "oct":
				set.Keys = []jose.JSONWebKey{{Key: []byte("a symmetric key of 32 bytes....."), KeyID: is.KeyID, Algorithm: "HS256", Use: "sig"}}
			case "other-key":
				set.Keys = []jose.JSONWebKey{{Key: &attacker().PublicKey, KeyID: is.KeyID, Algorithm: "RS256", Use: "sig"}}
			}
			writeJSON(w, set)
		default:
			return false
		}
		return true
	}
}

// prepareSTS scripts the fake STS.
func prepareSTS(c corpusCase, h *harness) {
	if c.STS == nil {
		return
	}
	switch shape := c.STS.Shape.(type) {
	case string:
		h.sts.ShapeAnswers(map[string]func(*stsfake.Answer){"seaweedfs": stsfake.SeaweedFS, "minio": stsfake.MinIO}[shape])
	case map[string]any:
		h.sts.ShapeAnswers(func(a *stsfake.Answer) {
			for k, v := range shape {
				s := fmt.Sprint(v)
				switch k {
				case "key":
					a.AccessKeyID = s
				case "secret":
					a.SecretAccessKey = s
				case "token":
					a.SessionToken = s
				case "expiration":
					a.Expiration = s
				case "arn":
					a.AssumedRoleUser = &stsfake.AssumedRoleUser{Arn: s, AssumedRoleID: "AROAEXAMPLE:s"}
				}
			}
		})
	}
	if f := c.STS.Fail; f != nil {
		for range 10 {
			h.sts.FailNext(stsfake.Failure{Code: f.Code, Status: f.Status, Message: f.Message})
		}
	}
	for _, code := range c.STS.FailFirst {
		h.sts.FailNext(stsfake.Failure{Code: code})
	}
}

// writeRaw answers status with body, or with size bytes of valid JSON.
func writeRaw(w http.ResponseWriter, status int, body string, size int) {
	if size > 0 {
		body = `{"padding":"` + strings.Repeat("a", size) + `"}`
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func writeJSON(w http.ResponseWriter, v any) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.Bytes())
}
