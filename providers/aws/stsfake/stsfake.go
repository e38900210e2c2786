package stsfake

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidc-exchange/oidc-exchange/internal/httpfake"
)

// Namespace is the XML namespace of every STS 2011-06-15 response.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// APIVersion is the only Version the fake accepts.
const APIVersion = "2011-06-15"

// The actions the fake answers.
const (
	ActionAssumeRoleWithWebIdentity = "AssumeRoleWithWebIdentity"
	ActionAssumeRole                = "AssumeRole"
)

// Limits STS documents for AssumeRoleWithWebIdentity and AssumeRole.
const (
	// MinDurationSeconds and MaxDurationSeconds bound DurationSeconds; a
	// role's MaxSessionDuration may lower the upper bound further.
	MinDurationSeconds = 900
	MaxDurationSeconds = 43200
	// DefaultMaxSessionDuration is IAM's default MaxSessionDuration for a
	// new role: one hour.
	DefaultMaxSessionDuration = 3600
	// ChainedMaxSeconds is the longest session AssumeRole grants a caller
	// that is itself a role session (role chaining), whatever the target
	// role's MaxSessionDuration.
	ChainedMaxSeconds = 3600
	// defaultDurationSeconds is the session length when the request
	// names none.
	defaultDurationSeconds = 3600
	// maxPolicyLength is the documented length limit of Policy.
	maxPolicyLength = 2048
	// maxPolicyARNs is the documented limit of PolicyArns members.
	maxPolicyARNs = 10
	// maxTokenLength is the documented length limit of WebIdentityToken.
	maxTokenLength = 20000
	// maxBodySize bounds a request body: a token, a policy, ten ARNs and
	// fifty tags fit in well under 64 KiB.
	maxBodySize = 64 << 10
)

// IssuedSessionName is the RoleSessionName of the sessions [Server.Issue]
// mints; it appears in their ARN and in AccessDenied messages.
const IssuedSessionName = "stsfake-issued"

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

	// The codes of a signed call whose signature or credentials fail.
	// ExpiredToken (not ExpiredTokenException) is an expired session
	// that signed the call; ExpiredTokenException an expired web
	// identity token.
	CodeExpiredSecurityToken       = "ExpiredToken"
	CodeIncompleteSignature        = "IncompleteSignature"
	CodeInvalidClientTokenID       = "InvalidClientTokenId"
	CodeMissingAuthenticationToken = "MissingAuthenticationToken"
	CodeSignatureDoesNotMatch      = "SignatureDoesNotMatch"
)

// StatusFor returns the HTTP status STS answers a code with: 403 for
// AccessDenied, IDPRejectedClaim, RegionDisabledException,
// InvalidClientTokenId, SignatureDoesNotMatch and
// MissingAuthenticationToken, 500 for InternalFailure, 503 for
// ServiceUnavailable and 400 for everything else (Throttling included: STS
// throttles with 400, not 429).
func StatusFor(code string) int {
	switch code {
	case CodeAccessDenied, CodeIDPRejectedClaim, CodeRegionDisabled,
		CodeInvalidClientTokenID, CodeSignatureDoesNotMatch, CodeMissingAuthenticationToken:
		return http.StatusForbidden
	case CodeInternalFailure:
		return http.StatusInternalServerError
	case CodeServiceUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// TrustPolicy is the web-identity part of a role's trust policy, reduced
// to what a GitHub trust policy usually checks: the audience and the
// subject.
type TrustPolicy struct {
	// Audience is the exact aud the token must carry (StringEquals on
	// "<issuer>:aud"). Every role's Audience is also a client id of the
	// issuer's IAM OIDC provider: a token for none of them is an
	// InvalidIdentityToken, one for another role's audience AccessDenied.
	// "" admits no web identity.
	Audience string
	// Subjects are glob patterns for sub, as with StringLike on
	// "<issuer>:sub": * matches any run of characters, ? one character.
	// The token must match one of them; an empty list admits no one, so a
	// forgotten sub condition fails closed here.
	Subjects []string
}

// Role is a role of the accounts the fake simulates. Roles may be in
// different accounts; a session's ARN carries its role's account.
type Role struct {
	// ARN is the role's ARN, arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME.
	ARN string
	// Trust admits web identities (AssumeRoleWithWebIdentity); its zero
	// value admits none.
	Trust TrustPolicy
	// TrustedRoles are the role ARNs whose sessions may call AssumeRole
	// on this role: role chaining. They stand for trust policy statements
	// with "Principal": {"AWS": ARN} and "Action": "sts:AssumeRole".
	TrustedRoles []string
	// ExternalID, when set, is the sts:ExternalId condition of those
	// statements: AssumeRole must send exactly it.
	ExternalID string
	// MaxSessionDuration is the role's maximum session in seconds;
	// 0 means [DefaultMaxSessionDuration].
	MaxSessionDuration int
}

// Config configures a [Server].
type Config struct {
	// Issuer is the exact iss of accepted tokens, the URL of the "IAM OIDC
	// identity provider" the roles trust.
	Issuer string
	// KeySet verifies token signatures, e.g. oidc.NewRemoteKeySet on the
	// issuer's /keys. Required.
	KeySet oidc.KeySet
	// RoleARN, Trust and MaxSessionDuration describe the first role, the
	// one [Server.RoleARN] and [Server.AccountID] name; Trust.Audience is
	// then required. RoleARN may be empty when Roles lists every role;
	// the first of Roles is then the first role.
	//
	// Any role not configured is answered with AccessDenied, as STS does
	// for a role that does not exist or does not trust the caller.
	RoleARN string
	// Trust is the first role's trust policy.
	Trust TrustPolicy
	// MaxSessionDuration is the first role's maximum session in seconds;
	// 0 means [DefaultMaxSessionDuration].
	MaxSessionDuration int
	// Roles are more roles, with ARNs distinct from RoleARN's and each
	// other's.
	Roles []Role
	// Now is the clock for token expiry, credential expiration and the
	// expiry of the sessions that sign AssumeRole; nil means time.Now.
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
	// Action, when set, makes the failure wait for the next request whose
	// Action parameter it is, e.g. [ActionAssumeRole] to fail the
	// chained call and not the web-identity call before it. "" answers
	// the next request, whatever it is.
	Action string
}

// Credentials are temporary credentials the fake issued.
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
	// Action and RoleARN are the form's Action and RoleArn.
	Action  string
	RoleARN string
	// Region is the region of an AssumeRole signature's credential scope,
	// CallerAccessKeyID its access key id, and SourceRoleARN the role of
	// the session that key belongs to; each is "" until the fake got that
	// far (no signature, a malformed one, an unknown key).
	Region            string
	CallerAccessKeyID string
	SourceRoleARN     string
	// Code is the error code answered, "" on success.
	Code string
	// Issued holds the credentials returned, nil on failure.
	Issued *Credentials
}

// Server is an http.Handler speaking STS AssumeRoleWithWebIdentity and
// AssumeRole. It is safe for concurrent use.
type Server struct {
	cfg   Config
	first *role
	roles map[string]*role
	// audiences are the client ids of the issuer's IAM OIDC provider:
	// every role's Trust.Audience.
	audiences []string
	verifier  *oidc.IDTokenVerifier

	script httpfake.Script[Failure]

	mu       sync.Mutex
	requests []Request
	// sessions are every session issued, by access key id: the
	// credentials that may sign AssumeRole.
	sessions map[string]*session
	shape    func(*Answer)
}

// role is a configured role, resolved.
type role struct {
	Role
	arn  arn.ARN
	name string
	// id is the role's unique id, AROA…: stable, so derived from the ARN.
	id string
}

// sessionARN is the ARN of the role's session named session.
func (r *role) sessionARN(session string) string {
	return fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", r.arn.Partition, r.arn.AccountID, r.name, session)
}

// session is a set of credentials the fake issued and what they stand for.
type session struct {
	creds          Credentials
	role           *role
	name           string
	sourceIdentity string
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

// ShapeAnswers makes every later successful answer, of either action,
// pass through shape first; nil restores the real STS's answers. Requests
// record what was sent, so Issued holds the shaped credentials, and those
// are the credentials that may sign AssumeRole.
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
	case cfg.RoleARN != "" && cfg.Trust.Audience == "":
		return nil, errors.New("stsfake: Trust.Audience is required")
	case cfg.RoleARN == "" && len(cfg.Roles) == 0:
		return nil, errors.New("stsfake: RoleARN or Roles is required")
	}
	all := cfg.Roles
	if cfg.RoleARN != "" {
		all = append([]Role{{ARN: cfg.RoleARN, Trust: cfg.Trust, MaxSessionDuration: cfg.MaxSessionDuration}}, cfg.Roles...)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, roles: make(map[string]*role, len(all)), sessions: map[string]*session{}}
	for _, r := range all {
		resolved, err := resolveRole(r)
		if err != nil {
			return nil, err
		}
		if _, dup := s.roles[r.ARN]; dup {
			return nil, fmt.Errorf("stsfake: role %q is configured twice", r.ARN)
		}
		s.roles[r.ARN] = resolved
		if s.first == nil {
			s.first = resolved
		}
		if a := r.Trust.Audience; a != "" && !slices.Contains(s.audiences, a) {
			s.audiences = append(s.audiences, a)
		}
	}
	s.verifier = oidc.NewVerifier(cfg.Issuer, cfg.KeySet, &oidc.Config{
		// The audience is checked in verify, against every role's
		// Trust.Audience: the provider's list of client ids.
		SkipClientIDCheck: true, SupportedSigningAlgs: []string{oidc.RS256}, Now: cfg.Now,
	})
	return s, nil
}

// resolveRole validates a configured role.
func resolveRole(r Role) (*role, error) {
	a, ok := parseRoleARN(r.ARN)
	if !ok {
		return nil, fmt.Errorf("stsfake: RoleARN %q is not an IAM role ARN", r.ARN)
	}
	if r.MaxSessionDuration == 0 {
		r.MaxSessionDuration = DefaultMaxSessionDuration
	}
	if r.MaxSessionDuration < MinDurationSeconds || r.MaxSessionDuration > MaxDurationSeconds {
		return nil, fmt.Errorf("stsfake: role %q: MaxSessionDuration %d is outside %d–%d", r.ARN, r.MaxSessionDuration, MinDurationSeconds, MaxDurationSeconds)
	}
	if r.Trust.Audience == "" && len(r.Trust.Subjects) > 0 {
		return nil, fmt.Errorf("stsfake: role %q: Trust.Subjects without Trust.Audience", r.ARN)
	}
	for _, t := range r.TrustedRoles {
		if _, ok := parseRoleARN(t); !ok {
			return nil, fmt.Errorf("stsfake: role %q: trusted role %q is not an IAM role ARN", r.ARN, t)
		}
	}
	if r.ExternalID != "" && checkExternalID(r.ExternalID) != nil {
		return nil, fmt.Errorf("stsfake: role %q: ExternalID must be 2–1224 characters of [\\w+=,.@:/-]", r.ARN)
	}
	sum := sha256.Sum256([]byte(r.ARN))
	return &role{
		Role: r,
		arn:  a,
		name: a.Resource[strings.LastIndex(a.Resource, "/")+1:],
		id:   "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17],
	}, nil
}

// parseRoleARN parses an IAM role ARN.
func parseRoleARN(s string) (arn.ARN, bool) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") || !accountRE.MatchString(a.AccountID) {
		return arn.ARN{}, false
	}
	return a, true
}

// AccountID is the account of the first role.
func (s *Server) AccountID() string { return s.first.arn.AccountID }

// RoleARN is the first role.
func (s *Server) RoleARN() string { return s.first.ARN }

// Issue mints a session of the role roleARN that expires d from now, as
// if an earlier step had obtained it, and returns its credentials: for
// tests of role chaining from credentials found in the environment. Its
// session name is [IssuedSessionName]. It records no request.
func (s *Server) Issue(roleARN string, d time.Duration) (Credentials, error) {
	r, ok := s.roles[roleARN]
	if !ok {
		return Credentials{}, fmt.Errorf("stsfake: no role %q is configured", roleARN)
	}
	if d <= 0 {
		return Credentials{}, fmt.Errorf("stsfake: session duration %v is not positive", d)
	}
	creds, err := newCredentials(s.cfg.Now().Add(d))
	if err != nil {
		return Credentials{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[creds.AccessKeyID] = &session{creds: creds, role: r, name: IssuedSessionName}
	return creds, nil
}

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
// next one whose Action matches it, after being recorded and before any
// other processing.
func (s *Server) FailNext(f ...Failure) { s.script.FailNext(f...) }

// SetLatency makes every answer take d in all, to model a remote endpoint.
func (s *Server) SetLatency(d time.Duration) { s.script.SetLatency(d) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	rec := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
	var (
		body    []byte
		formErr error
	)
	if r.Method == http.MethodPost {
		// The body is kept: a signature covers its hash.
		body, formErr = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodySize))
		if formErr == nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			formErr = r.ParseForm()
		}
		rec.Form = httpfake.CloneValues(r.PostForm)
		rec.Action, rec.RoleARN = r.PostForm.Get("Action"), r.PostForm.Get("RoleArn")
	}

	s.mu.Lock()
	scripted, latency := s.script.Next(func(f Failure) bool { return f.Action == "" || f.Action == rec.Action })
	index := len(s.requests)
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	var (
		res  *result
		fail *Failure
		call caller
	)
	switch {
	case scripted != nil:
		fail = scripted
	case r.Method != http.MethodPost || r.URL.Path != "/":
		fail = validation("the fake STS accepts only POST / with a form body")
	case formErr != nil:
		fail = validation("the request body is not a valid form")
	default:
		res, fail = s.dispatch(r, body, &call)
	}

	var answer *Answer
	s.mu.Lock()
	got := &s.requests[index]
	got.Region, got.CallerAccessKeyID = call.region, call.accessKeyID
	if call.session != nil {
		got.SourceRoleARN = call.session.role.ARN
	}
	if fail != nil {
		got.Code = fail.Code
	} else {
		answer = &Answer{
			AssumedRoleUser: &AssumedRoleUser{Arn: res.role.sessionARN(res.session), AssumedRoleID: res.role.id + ":" + res.session},
			AccessKeyID:     res.creds.AccessKeyID, SecretAccessKey: res.creds.SecretAccessKey,
			SessionToken: res.creds.SessionToken, Expiration: res.creds.Expiration.Format(time.RFC3339),
		}
		if s.shape != nil {
			s.shape(answer)
		}
		c := Credentials{AccessKeyID: answer.AccessKeyID, SecretAccessKey: answer.SecretAccessKey, SessionToken: answer.SessionToken,
			Expiration: res.creds.Expiration}
		got.Issued = &c
		if c.AccessKeyID != "" {
			s.sessions[c.AccessKeyID] = &session{creds: c, role: res.role, name: res.session, sourceIdentity: res.sourceIdentity}
		}
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

// dispatch checks what every action shares, then hands the request to its
// action.
func (s *Server) dispatch(r *http.Request, body []byte, call *caller) (*result, *Failure) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, validation("the request must have Content-Type application/x-www-form-urlencoded")
	}
	form := r.PostForm
	action, version := form.Get("Action"), form.Get("Version")
	if action == "" {
		return nil, validation("the Action parameter is required")
	}
	if version == APIVersion {
		switch action {
		case ActionAssumeRoleWithWebIdentity:
			return s.assumeRoleWithWebIdentity(r.Context(), r.Header, form)
		case ActionAssumeRole:
			return s.assumeRole(r, body, call)
		}
	}
	return nil, &Failure{Code: CodeInvalidAction, Message: fmt.Sprintf("Could not find operation %s for version %s", action, version)}
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

func internalFailure() *Failure {
	return &Failure{Code: CodeInternalFailure, Message: "An internal error occurred."}
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// result is what a successful call returns.
type result struct {
	action string
	creds  Credentials
	role   *role
	// session is the RoleSessionName.
	session        string
	sourceIdentity string
	packed         int
	// For AssumeRoleWithWebIdentity only.
	subject  string
	audience string
	issuer   string
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

// The XML documents every action shares; each action's own are beside it.

type assumedRoleUser struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
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
	meta := responseMetadata{RequestID: reqID}
	if res.action == ActionAssumeRole {
		writeXML(w, http.StatusOK, assumeRoleDocument(res, user, a, meta))
		return
	}
	writeXML(w, http.StatusOK, webIdentityDocument(res, user, a, meta))
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
