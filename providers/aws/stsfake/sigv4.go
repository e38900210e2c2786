package stsfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// amzDateFormat is the ISO 8601 basic format of X-Amz-Date.
const amzDateFormat = "20060102T150405Z"

// caller is what the fake learned of an AssumeRole request's signer, as
// far as it got: for the request record and the trust check.
type caller struct {
	region      string
	accessKeyID string
	// session is the signer's session once its credentials checked out.
	session *session
}

// authorization is a parsed Authorization header of SigV4.
type authorization struct {
	accessKeyID, date, region, service, terminator string
	signedHeaders                                  string
	signature                                      string
}

// authenticate checks an AssumeRole request's SigV4 signature the way STS
// does: the header's shape, the credential scope, the access key and its
// session token, the session's expiry, and then the signature itself,
// computed again with the session's secret. It fills call as it goes.
func (s *Server) authenticate(r *http.Request, body []byte, call *caller) *Failure {
	header := r.Header.Get("Authorization")
	if header == "" {
		if r.URL.Query().Has("X-Amz-Signature") || r.PostForm.Has("X-Amz-Signature") {
			return &Failure{Code: CodeIncompleteSignature, Message: "the fake STS verifies only signatures in the Authorization header"}
		}
		return &Failure{Code: CodeMissingAuthenticationToken, Message: "Request is missing Authentication Token"}
	}
	auth, fail := parseAuthorization(header)
	if fail != nil {
		return fail
	}
	call.accessKeyID, call.region = auth.accessKeyID, auth.region
	rawDate := r.Header.Get("X-Amz-Date")
	if rawDate == "" {
		return incomplete("Authorization header requires existence of an 'X-Amz-Date' header.")
	}
	signedAt, err := time.Parse(amzDateFormat, rawDate)
	if err != nil {
		return incomplete("X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z'.")
	}
	switch {
	case auth.date != rawDate[:8]:
		return mismatch(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", auth.date, rawDate[:8], rawDate))
	case auth.region == "":
		return mismatch("Credential should be scoped to a valid region.")
	case auth.service != "sts":
		return mismatch("Credential should be scoped to correct service: 'sts'.")
	case auth.terminator != "aws4_request":
		return mismatch(fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", auth.terminator))
	}

	s.mu.Lock()
	sess := s.sessions[auth.accessKeyID]
	s.mu.Unlock()
	// An unknown key and a key without its own session token are the same
	// to STS: the token is where it finds the key's session.
	token := r.Header.Get("X-Amz-Security-Token")
	if sess == nil || subtle.ConstantTimeCompare([]byte(token), []byte(sess.creds.SessionToken)) != 1 {
		return &Failure{Code: CodeInvalidClientTokenID, Message: "The security token included in the request is invalid."}
	}
	if !s.cfg.Now().Before(sess.creds.Expiration) {
		return &Failure{Code: CodeExpiredSecurityToken, Message: "The security token included in the request is expired"}
	}
	if !verifySignature(r, body, auth, signedAt, sess.creds) {
		return mismatch("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	call.session = sess
	return nil
}

func incomplete(msg string) *Failure { return &Failure{Code: CodeIncompleteSignature, Message: msg} }

func mismatch(msg string) *Failure { return &Failure{Code: CodeSignatureDoesNotMatch, Message: msg} }

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=HEX".
func parseAuthorization(header string) (authorization, *Failure) {
	algorithm, rest, _ := strings.Cut(header, " ")
	if algorithm != "AWS4-HMAC-SHA256" {
		return authorization{}, incomplete("Authorization header must use the AWS4-HMAC-SHA256 algorithm.")
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			params[k] = v
		}
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	if len(missing) > 0 {
		return authorization{}, incomplete(strings.Join(missing, " "))
	}
	scope := strings.Split(params["Credential"], "/")
	if len(scope) != 5 {
		return authorization{}, incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term.")
	}
	return authorization{
		accessKeyID: scope[0], date: scope[1], region: scope[2], service: scope[3], terminator: scope[4],
		signedHeaders: params["SignedHeaders"], signature: params["Signature"],
	}, nil
}

// verifySignature signs a copy of r, reduced to the headers the client
// says it signed, with creds at the client's signing time, and compares
// the two signatures. The client's SignedHeaders must be exactly those
// the SDK's signer signs for that copy: the host, the content length, and
// every other header named.
func verifySignature(r *http.Request, body []byte, auth authorization, signedAt time.Time, creds Credentials) bool {
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	// A declared payload hash must be the body's: STS signs the content.
	if declared := r.Header.Get("X-Amz-Content-Sha256"); declared != "" && declared != payloadHash {
		return false
	}
	cp := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery},
		Host:   r.Host,
		Header: http.Header{},
	}
	signToken := false
	for name := range strings.SplitSeq(auth.signedHeaders, ";") {
		switch name {
		case "host":
			// The signer takes it from Host.
		case "content-length":
			cp.ContentLength = int64(len(body))
		case "x-amz-security-token":
			// The signer sets it from the credentials it signs with.
			signToken = true
		default:
			if values := r.Header.Values(name); len(values) > 0 {
				cp.Header[http.CanonicalHeaderKey(name)] = values
			}
		}
	}
	key := aws.Credentials{AccessKeyID: auth.accessKeyID, SecretAccessKey: creds.SecretAccessKey}
	if signToken {
		key.SessionToken = creds.SessionToken
	}
	if err := v4.NewSigner().SignHTTP(r.Context(), key, cp, payloadHash, auth.service, auth.region, signedAt); err != nil {
		return false
	}
	ours, fail := parseAuthorization(cp.Header.Get("Authorization"))
	return fail == nil && ours.signedHeaders == auth.signedHeaders &&
		hmac.Equal([]byte(ours.signature), []byte(auth.signature))
}
