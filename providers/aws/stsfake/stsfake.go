package stsfake

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpfake"
)

// Namespace is the XML namespace of every STS 2011-06-15 response.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// APIVersion is the only Version the fake accepts.
const APIVersion = "2011-06-15"

// Limits STS documents for AssumeRoleWithWebIdentity.
const (
	// MinDurationSeconds and MaxDurationSeconds bound DurationSeconds; a
	// role's MaxSessionDuration may lower the upper bound further.
	MinDurationSeconds = 900
	MaxDurationSeconds = 43200
	// DefaultMaxSessionDuration is IAM's default MaxSessionDuration for a
	// new role: one hour.
	DefaultMaxSessionDuration = 3600
	// defaultDurationSeconds is the session length when the request
	// names none.
	defaultDurationSeconds = 3600
	// maxPolicyLength is the documented length limit of Policy.
	maxPolicyLength = 2048
	// maxPolicyARNs is the documented limit of PolicyArns members.
	maxPolicyARNs = 10
	// maxTokenLength is the documented length limit of WebIdentityToken.
	maxTokenLength = 20000
	// maxBodySize bounds a request body: a token, a policy and ten ARNs
	// fit in well under 64 KiB.
	maxBodySize = 64 << 10
)

// Error codes the fake answers with, as STS spells them.
const (
	CodeAccessDenied            = "AccessDenied"
	CodeExpiredToken            = "ExpiredTokenException"
	CodeIDPCommunicationError   = "IDPCommunicationError"
	CodeIDPRejectedClaim        = "IDPRejectedClaim"
	CodeInvalidIdentityToken    = "InvalidIdentityToken"
	CodeMalformedPolicyDocument = "MalformedPolicyDocument"
	CodePackedPolicyTooLarge    = "PackedPolicyTooLarge"
	CodeRegionDisabled          = "RegionDisabledException"
	CodeValidationError         = "ValidationError"
	CodeThrottling              = "Throttling"
	CodeInternalFailure         = "InternalFailure"
	CodeServiceUnavailable      = "ServiceUnavailable"
	CodeInvalidAction           = "InvalidAction"
)

// StatusFor returns the HTTP status STS answers a code with: 403 for
// AccessDenied, IDPRejectedClaim and RegionDisabledException, 500 for
// InternalFailure, 503 for ServiceUnavailable and 400 for everything else
// (Throttling included: STS throttles with 400, not 429).
func StatusFor(code string) int {
	switch code {
	case CodeAccessDenied, CodeIDPRejectedClaim, CodeRegionDisabled:
		return http.StatusForbidden
	case CodeInternalFailure:
		return http.StatusInternalServerError
	case CodeServiceUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// TrustPolicy is the role's trust policy, reduced to what a GitHub trust
// policy usually checks: the audience and the subject.
type TrustPolicy struct {
	// Audience is the exact aud the token must carry (StringEquals on
	// "<issuer>:aud"). It is also the client id the token is verified for.
	Audience string
	// Subjects are glob patterns for sub, as with StringLike on
	// "<issuer>:sub": * matches any run of characters, ? one character.
	// The token must match one of them; an empty list admits no one, so a
	// forgotten sub condition fails closed here.
	Subjects []string
}

// Config configures a [Server].
type Config struct {
	// Issuer is the exact iss of accepted tokens, the URL of the "IAM OIDC
	// identity provider" the role trusts.
	Issuer string
	// KeySet verifies token signatures, e.g. oidc.NewRemoteKeySet on the
	// issuer's /keys. Required.
	KeySet oidc.KeySet
	// RoleARN is the one role that exists; any other RoleArn is answered
	// with AccessDenied, as STS does for a role that does not exist or does
	// not trust the caller. Its account is the account of the session.
	RoleARN string
	// Trust is the role's trust policy.
	Trust TrustPolicy
	// MaxSessionDuration is the role's maximum session in seconds;
	// 0 means [DefaultMaxSessionDuration].
	MaxSessionDuration int
	// Now is the clock for token expiry and credential expiration; nil
	// means time.Now.
	Now func() time.Time
}

// Failure is a scripted error answer, see [Server.FailNext].
type Failure struct {
	// Status is the HTTP status; 0 means [StatusFor](Code).
	Status int
	// Code and Message fill Error/Code and Error/Message.
	Code    string
	Message string
	// Type fills Error/Type, "Sender" or "Receiver"; "" derives it from
	// the status (Receiver for 5xx).
	Type string
}

// Credentials are the temporary credentials the fake issued for a request.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// Request is one request the fake received.
type Request struct {
	// Method, Path and Header are as received.
	Method string
	Path   string
	Header http.Header
	// Form is the parsed form body, WebIdentityToken included.
	Form url.Values
	// Code is the error code answered, "" on success.
	Code string
	// Issued holds the credentials returned, nil on failure.
	Issued *Credentials
}

// Server is an http.Handler speaking STS AssumeRoleWithWebIdentity. It is
// safe for concurrent use.
type Server struct {
	cfg      Config
	role     arn.ARN
	roleName string
	roleID   string
	verifier *oidc.IDTokenVerifier
	// anyAudience verifies everything but the audience, to tell a wrong
	// audience apart from a bad token as STS's messages do.
	anyAudience *oidc.IDTokenVerifier

	script httpfake.Script[Failure]

	mu       sync.Mutex
	requests []Request
	shape    func(*Answer)
}

// Answer is the content of a successful answer, which [Server.ShapeAnswers]
// may change before it is sent, to answer like another STS or a hostile
// one.
type Answer struct {
	// AssumedRoleUser nil leaves the element out, as SeaweedFS's STS does;
	// MinIO's sends it with an empty Arn.
	AssumedRoleUser *AssumedRoleUser
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Expiration is sent as it is; the fake writes RFC 3339.
	Expiration string
}

// AssumedRoleUser is the answer's session: its ARN and role id.
type AssumedRoleUser struct {
	Arn           string
	AssumedRoleID string
}

// ShapeAnswers makes every later successful answer pass through shape
// first; nil restores the real STS's answers. Requests record what was
// sent, so Issued holds the shaped credentials.
func (s *Server) ShapeAnswers(shape func(*Answer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape = shape
}

// SeaweedFS shapes answers like SeaweedFS's STS: no AssumedRoleUser.
func SeaweedFS(a *Answer) { a.AssumedRoleUser = nil }

// MinIO shapes answers like MinIO's STS: an AssumedRoleUser whose Arn and
// id are empty.
func MinIO(a *Answer) { a.AssumedRoleUser = &AssumedRoleUser{} }

var _ http.Handler = (*Server)(nil)

// New validates cfg and returns a fake STS.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("stsfake: Issuer is required")
	case cfg.KeySet == nil:
		return nil, errors.New("stsfake: KeySet is required")
	case cfg.Trust.Audience == "":
		return nil, errors.New("stsfake: Trust.Audience is required")
	}
	role, err := arn.Parse(cfg.RoleARN)
	if err != nil || role.Service != "iam" || !strings.HasPrefix(role.Resource, "role/") || !accountRE.MatchString(role.AccountID) {
		return nil, fmt.Errorf("stsfake: RoleARN %q is not an IAM role ARN", cfg.RoleARN)
	}
	if cfg.MaxSessionDuration == 0 {
		cfg.MaxSessionDuration = DefaultMaxSessionDuration
	}
	if cfg.MaxSessionDuration < MinDurationSeconds || cfg.MaxSessionDuration > MaxDurationSeconds {
		return nil, fmt.Errorf("stsfake: MaxSessionDuration %d is outside %d–%d", cfg.MaxSessionDuration, MinDurationSeconds, MaxDurationSeconds)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, role: role}
	s.roleName = role.Resource[strings.LastIndex(role.Resource, "/")+1:]
	// A role's unique id is stable, so derive it from the ARN.
	sum := sha256.Sum256([]byte(cfg.RoleARN))
	s.roleID = "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
	algs := []string{oidc.RS256}
	s.verifier = oidc.NewVerifier(cfg.Issuer, cfg.KeySet, &oidc.Config{
		ClientID: cfg.Trust.Audience, SupportedSigningAlgs: algs, Now: cfg.Now,
	})
	s.anyAudience = oidc.NewVerifier(cfg.Issuer, cfg.KeySet, &oidc.Config{
		// Used only after the audience check failed, to pick the message.
		SkipClientIDCheck: true, SupportedSigningAlgs: algs, Now: cfg.Now,
	})
	return s, nil
}

// AccountID is the account of the configured role.
func (s *Server) AccountID() string { return s.role.AccountID }

// RoleARN is the configured role.
func (s *Server) RoleARN() string { return s.cfg.RoleARN }

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r
		out[i].Header = r.Header.Clone()
		out[i].Form = httpfake.CloneValues(r.Form)
		if r.Issued != nil {
			c := *r.Issued
			out[i].Issued = &c
		}
	}
	return out
}

// FailNext queues failures; each of the next requests is answered with the
// next one, after being recorded and before any other processing.
func (s *Server) FailNext(f ...Failure) { s.script.FailNext(f...) }

// SetLatency makes every answer take d in all, to model a remote endpoint.
func (s *Server) SetLatency(d time.Duration) { s.script.SetLatency(d) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	rec := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodySize)
	var formErr error
	if r.Method == http.MethodPost {
		formErr = r.ParseForm()
		rec.Form = httpfake.CloneValues(r.PostForm)
	}

	s.mu.Lock()
	scripted, latency := s.script.Next(nil)
	index := len(s.requests)
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	var (
		res  *result
		fail *Failure
	)
	switch {
	case scripted != nil:
		fail = scripted
	case r.Method != http.MethodPost || r.URL.Path != "/":
		fail = validation("the fake STS accepts only POST / with a form body")
	case formErr != nil:
		fail = validation("the request body is not a valid form")
	default:
		res, fail = s.assume(r.Context(), r.Header, r.PostForm)
	}

	var answer *Answer
	s.mu.Lock()
	if fail != nil {
		s.requests[index].Code = fail.Code
	} else {
		answer = &Answer{
			AssumedRoleUser: &AssumedRoleUser{Arn: res.arn, AssumedRoleID: res.roleID},
			AccessKeyID:     res.creds.AccessKeyID, SecretAccessKey: res.creds.SecretAccessKey,
			SessionToken: res.creds.SessionToken, Expiration: res.creds.Expiration.Format(time.RFC3339),
		}
		if s.shape != nil {
			s.shape(answer)
		}
		c := Credentials{AccessKeyID: answer.AccessKeyID, SecretAccessKey: answer.SecretAccessKey, SessionToken: answer.SessionToken,
			Expiration: res.creds.Expiration}
		s.requests[index].Issued = &c
	}
	s.mu.Unlock()

	if !httpfake.Pace(r.Context(), start, latency) {
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", reqID)
	if fail != nil {
		writeError(w, fail, reqID)
		return
	}
	writeResult(w, res, answer, reqID)
}

var (
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]*$`)
	accountRE     = regexp.MustCompile(`^[0-9]{12}$`)
)

// validationMessage formats a constraint failure the way STS does.
func validationMessage(value, field, constraint string) string {
	return fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}

func validation(msg string) *Failure {
	return &Failure{Code: CodeValidationError, Message: msg}
}

// result is what a successful call returns.
type result struct {
	creds    Credentials
	subject  string
	audience string
	issuer   string
	arn      string
	roleID   string
	packed   int
}

// assume processes a request in the order STS does: protocol, parameters,
// token, trust.
func (s *Server) assume(ctx context.Context, h http.Header, form url.Values) (*result, *Failure) {
	if h.Get("Authorization") != "" || form.Has("X-Amz-Signature") {
		return nil, validation("AssumeRoleWithWebIdentity must not be signed: the web identity token is the credential")
	}
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, validation("the request must have Content-Type application/x-www-form-urlencoded")
	}
	action, version := form.Get("Action"), form.Get("Version")
	if action == "" {
		return nil, validation("the Action parameter is required")
	}
	if action != "AssumeRoleWithWebIdentity" || version != APIVersion {
		return nil, &Failure{Code: CodeInvalidAction, Message: fmt.Sprintf("Could not find operation %s for version %s", action, version)}
	}
	for _, field := range []string{"RoleArn", "RoleSessionName", "WebIdentityToken"} {
		if form.Get(field) == "" {
			name := strings.ToLower(field[:1]) + field[1:]
			return nil, validation(validationMessage("null", name, "Member must not be null"))
		}
	}
	for name, values := range form {
		if len(values) != 1 {
			return nil, validation(fmt.Sprintf("parameter %s is given %d times", name, len(values)))
		}
	}

	session := form.Get("RoleSessionName")
	switch {
	case len(session) < 2 || len(session) > 64:
		return nil, validation(validationMessage(session, "roleSessionName", "Member must have length between 2 and 64"))
	case !sessionNameRE.MatchString(session):
		return nil, validation(validationMessage(session, "roleSessionName", `Member must satisfy regular expression pattern: [\w+=,.@-]*`))
	}

	duration := defaultDurationSeconds
	if v := form.Get("DurationSeconds"); v != "" {
		d, err := strconv.Atoi(v)
		switch {
		case err != nil:
			return nil, validation(fmt.Sprintf("DurationSeconds %q is not an integer", v))
		case d < MinDurationSeconds:
			return nil, validation(validationMessage(v, "durationSeconds", "Member must have value greater than or equal to 900"))
		case d > MaxDurationSeconds:
			return nil, validation(validationMessage(v, "durationSeconds", "Member must have value less than or equal to 43200"))
		case d > s.cfg.MaxSessionDuration:
			return nil, validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
		duration = d
	}

	roleARN := form.Get("RoleArn")
	if len(roleARN) < 20 || len(roleARN) > 2048 {
		return nil, validation(validationMessage(roleARN, "roleArn", "Member must have length between 20 and 2048"))
	}
	if _, err := arn.Parse(roleARN); err != nil {
		return nil, validation(roleARN + " is invalid")
	}

	packed, fail := checkPolicies(form)
	if fail != nil {
		return nil, fail
	}

	token := form.Get("WebIdentityToken")
	if len(token) > maxTokenLength {
		return nil, validation(validationMessage("(token)", "webIdentityToken", "Member must have length less than or equal to 20000"))
	}
	idt, fail := s.verify(ctx, token)
	if fail != nil {
		return nil, fail
	}

	if roleARN != s.cfg.RoleARN || !slices.ContainsFunc(s.cfg.Trust.Subjects, func(p string) bool { return exchange.Glob(p, idt.Subject) }) {
		return nil, &Failure{Code: CodeAccessDenied, Message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"}
	}

	creds, err := newCredentials(s.cfg.Now().Add(time.Duration(duration) * time.Second))
	if err != nil {
		return nil, &Failure{Code: CodeInternalFailure, Message: "An internal error occurred."}
	}
	return &result{
		creds:    creds,
		subject:  idt.Subject,
		audience: s.cfg.Trust.Audience,
		issuer:   idt.Issuer,
		arn:      fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", s.role.Partition, s.role.AccountID, s.roleName, session),
		roleID:   s.roleID + ":" + session,
		packed:   packed,
	}, nil
}

// checkPolicies validates Policy and PolicyArns.member.N.arn and returns a
// packed-size percentage, 0 when there are no session policies.
func checkPolicies(form url.Values) (int, *Failure) {
	size := 0
	if p := form.Get("Policy"); p != "" {
		if len(p) > maxPolicyLength {
			return 0, validation(validationMessage("(policy)", "policy", "Member must have length less than or equal to 2048"))
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(p), &obj); err != nil {
			return 0, &Failure{Code: CodeMalformedPolicyDocument, Message: "The policy is not in the valid JSON format."}
		}
		size += len(p)
	}
	n := 0
	for key, values := range form {
		if !strings.HasPrefix(key, "PolicyArns.") {
			continue
		}
		rest, ok := strings.CutPrefix(key, "PolicyArns.member.")
		idx, field, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(idx); !ok || err != nil || i < 1 || field != "arn" {
			return 0, validation(fmt.Sprintf("parameter %s is not a valid PolicyArns member", key))
		}
		a, err := arn.Parse(values[0])
		if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "policy/") {
			return 0, validation(fmt.Sprintf("policy ARN %s is invalid", values[0]))
		}
		n++
		size += len(values[0])
	}
	if n > maxPolicyARNs {
		return 0, validation(validationMessage("(policyArns)", "policyArns", "Member must have length less than or equal to 10"))
	}
	if size == 0 {
		return 0, nil
	}
	// A stand-in for STS's packing: the share of the plaintext limit used.
	return max(1, size*100/maxPolicyLength), nil
}

// verify checks the token and maps failures to STS's codes.
func (s *Server) verify(ctx context.Context, token string) (*oidc.IDToken, *Failure) {
	idt, err := s.verifier.Verify(ctx, token)
	if err == nil {
		return idt, nil
	}
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return nil, &Failure{Code: CodeExpiredToken, Message: fmt.Sprintf(
			"Token expired: current date/time %d must be before the expiration date/time %d",
			s.cfg.Now().Unix(), expired.Expiry.Unix())}
	}
	if _, aerr := s.anyAudience.Verify(ctx, token); aerr == nil {
		return nil, &Failure{Code: CodeInvalidIdentityToken, Message: "Incorrect token audience"}
	}
	return nil, &Failure{Code: CodeInvalidIdentityToken, Message: "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."}
}

// Base32 without padding is the alphabet of real access key ids.
var keyIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newCredentials generates random credentials shaped like STS's.
func newCredentials(expiration time.Time) (Credentials, error) {
	buf := make([]byte, 10+30+160)
	if _, err := rand.Read(buf); err != nil {
		return Credentials{}, fmt.Errorf("reading randomness: %w", err)
	}
	// 30 bytes encode to 40 base64 characters, the length of a real
	// secret. Real secrets often contain "/" and "+", which break naive
	// shell and URL handling; force both so every test exercises them.
	secret := []byte(base64.StdEncoding.EncodeToString(buf[10:40]))
	secret[7], secret[23] = '/', '+'
	return Credentials{
		AccessKeyID:     "ASIA" + keyIDEncoding.EncodeToString(buf[:10]),
		SecretAccessKey: string(secret),
		// Real session tokens are opaque base64 of a few hundred bytes.
		SessionToken: "IQoJb3JpZ2luX2VjE" + base64.StdEncoding.EncodeToString(buf[40:]),
		Expiration:   expiration.UTC().Truncate(time.Second),
	}, nil
}

// newRequestID returns a random UUID-shaped request id.
func newRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "00000000-0000-4000-8000-000000000000"
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// The XML documents, in the element order of STS's documented samples.

type successResponse struct {
	XMLName  xml.Name         `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleWithWebIdentityResponse"`
	Result   successResult    `xml:"AssumeRoleWithWebIdentityResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type successResult struct {
	SubjectFromWebIdentityToken string           `xml:"SubjectFromWebIdentityToken"`
	Audience                    string           `xml:"Audience"`
	AssumedRoleUser             *assumedRoleUser `xml:"AssumedRoleUser"`
	Credentials                 xmlCredentials   `xml:"Credentials"`
	Provider                    string           `xml:"Provider"`
	PackedPolicySize            int              `xml:"PackedPolicySize,omitempty"`
}

type assumedRoleUser struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

type xmlCredentials struct {
	SessionToken    string `xml:"SessionToken"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	Expiration      string `xml:"Expiration"`
	AccessKeyID     string `xml:"AccessKeyId"`
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Error     xmlError `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type xmlError struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func writeResult(w http.ResponseWriter, res *result, a *Answer, reqID string) {
	var user *assumedRoleUser
	if a.AssumedRoleUser != nil {
		user = &assumedRoleUser{Arn: a.AssumedRoleUser.Arn, AssumedRoleID: a.AssumedRoleUser.AssumedRoleID}
	}
	doc := successResponse{
		Result: successResult{
			SubjectFromWebIdentityToken: res.subject,
			Audience:                    res.audience,
			AssumedRoleUser:             user,
			Credentials: xmlCredentials{
				SessionToken:    a.SessionToken,
				SecretAccessKey: a.SecretAccessKey,
				Expiration:      a.Expiration,
				AccessKeyID:     a.AccessKeyID,
			},
			Provider:         res.issuer,
			PackedPolicySize: res.packed,
		},
		Metadata: responseMetadata{RequestID: reqID},
	}
	writeXML(w, http.StatusOK, doc)
}

func writeError(w http.ResponseWriter, f *Failure, reqID string) {
	status := f.Status
	if status == 0 {
		status = StatusFor(f.Code)
	}
	typ := f.Type
	if typ == "" {
		typ = "Sender"
		if status >= 500 {
			typ = "Receiver"
		}
	}
	writeXML(w, status, errorResponse{Error: xmlError{Type: typ, Code: f.Code, Message: f.Message}, RequestID: reqID})
}

func writeXML(w http.ResponseWriter, status int, doc any) {
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		// Only strings and ints go in; this cannot happen.
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
