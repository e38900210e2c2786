package stsfake

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// assumeRoleWithWebIdentity processes a request in the order STS does:
// protocol, parameters, token, trust.
func (s *Server) assumeRoleWithWebIdentity(ctx context.Context, h http.Header, form url.Values) (*result, *Failure) {
	if h.Get("Authorization") != "" || form.Has("X-Amz-Signature") {
		return nil, validation("AssumeRoleWithWebIdentity must not be signed: the web identity token is the credential")
	}
	if fail := requireFields(form, "RoleArn", "RoleSessionName", "WebIdentityToken"); fail != nil {
		return nil, fail
	}
	if fail := singleValues(form); fail != nil {
		return nil, fail
	}
	session := form.Get("RoleSessionName")
	if fail := checkName(session, "roleSessionName"); fail != nil {
		return nil, fail
	}

	roleARN := form.Get("RoleArn")
	// An unknown role is AccessDenied, but only once the token has been
	// verified; its duration is checked against STS's bounds alone.
	target := s.roles[roleARN]
	roleMax := MaxDurationSeconds
	if target != nil {
		roleMax = target.MaxSessionDuration
	}
	duration, fail := durationSeconds(form, roleMax)
	if fail != nil {
		return nil, fail
	}
	if duration == 0 {
		duration = defaultDurationSeconds
	}
	if fail := checkRoleARN(roleARN); fail != nil {
		return nil, fail
	}

	packed, fail := checkPolicies(form, 0)
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

	if target == nil || !target.admits(idt) {
		return nil, &Failure{Code: CodeAccessDenied, Message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"}
	}

	creds, err := newCredentials(s.cfg.Now().Add(seconds(duration)))
	if err != nil {
		return nil, internalFailure()
	}
	return &result{
		action:   ActionAssumeRoleWithWebIdentity,
		creds:    creds,
		role:     target,
		session:  session,
		packed:   packed,
		subject:  idt.Subject,
		audience: target.Trust.Audience,
		issuer:   idt.Issuer,
	}, nil
}

// admits applies the role's web-identity trust to a verified token.
func (r *role) admits(idt *oidc.IDToken) bool {
	t := r.Trust
	return t.Audience != "" && slices.Contains(idt.Audience, t.Audience) &&
		slices.ContainsFunc(t.Subjects, func(p string) bool { return exchange.Glob(p, idt.Subject) })
}

// verify checks the token and maps failures to STS's codes.
func (s *Server) verify(ctx context.Context, token string) (*oidc.IDToken, *Failure) {
	idt, err := s.verifier.Verify(ctx, token)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, &Failure{Code: CodeExpiredToken, Message: fmt.Sprintf(
				"Token expired: current date/time %d must be before the expiration date/time %d",
				s.cfg.Now().Unix(), expired.Expiry.Unix())}
		}
		return nil, &Failure{Code: CodeInvalidIdentityToken, Message: "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."}
	}
	if !slices.ContainsFunc(idt.Audience, func(a string) bool { return slices.Contains(s.audiences, a) }) {
		return nil, &Failure{Code: CodeInvalidIdentityToken, Message: "Incorrect token audience"}
	}
	return idt, nil
}

// The XML documents of AssumeRoleWithWebIdentity, in the element order of
// STS's documented sample.

type webIdentityResponse struct {
	XMLName  xml.Name          `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleWithWebIdentityResponse"`
	Result   webIdentityResult `xml:"AssumeRoleWithWebIdentityResult"`
	Metadata responseMetadata  `xml:"ResponseMetadata"`
}

type webIdentityResult struct {
	SubjectFromWebIdentityToken string                 `xml:"SubjectFromWebIdentityToken"`
	Audience                    string                 `xml:"Audience"`
	AssumedRoleUser             *assumedRoleUser       `xml:"AssumedRoleUser"`
	Credentials                 webIdentityCredentials `xml:"Credentials"`
	Provider                    string                 `xml:"Provider"`
	PackedPolicySize            int                    `xml:"PackedPolicySize,omitempty"`
}

type webIdentityCredentials struct {
	SessionToken    string `xml:"SessionToken"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	Expiration      string `xml:"Expiration"`
	AccessKeyID     string `xml:"AccessKeyId"`
}

func webIdentityDocument(res *result, user *assumedRoleUser, a *Answer, meta responseMetadata) webIdentityResponse {
	return webIdentityResponse{
		Result: webIdentityResult{
			SubjectFromWebIdentityToken: res.subject,
			Audience:                    res.audience,
			AssumedRoleUser:             user,
			Credentials: webIdentityCredentials{
				SessionToken:    a.SessionToken,
				SecretAccessKey: a.SecretAccessKey,
				Expiration:      a.Expiration,
				AccessKeyID:     a.AccessKeyID,
			},
			Provider:         res.issuer,
			PackedPolicySize: res.packed,
		},
		Metadata: meta,
	}
}
