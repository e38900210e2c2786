package stsfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
)

// assumeRole processes a request in the order STS does: signature and
// credentials, parameters, the target role's trust, then the duration,
// which depends on the role and the caller.
func (s *Server) assumeRole(r *http.Request, body []byte, call *caller) (*result, *Failure) {
	if fail := s.authenticate(r, body, call); fail != nil {
		return nil, fail
	}
	src := call.session
	form := r.PostForm
	if fail := requireFields(form, "RoleArn", "RoleSessionName"); fail != nil {
		return nil, fail
	}
	if fail := singleValues(form); fail != nil {
		return nil, fail
	}
	session := form.Get("RoleSessionName")
	if fail := checkName(session, "roleSessionName"); fail != nil {
		return nil, fail
	}
	duration, fail := durationSeconds(form, MaxDurationSeconds)
	if fail != nil {
		return nil, fail
	}
	roleARN := form.Get("RoleArn")
	if fail := checkRoleARN(roleARN); fail != nil {
		return nil, fail
	}
	if form.Has("ExternalId") {
		if fail := checkExternalID(form.Get("ExternalId")); fail != nil {
			return nil, fail
		}
	}
	if fail := checkMFA(form); fail != nil {
		return nil, fail
	}
	sourceIdentity := form.Get("SourceIdentity")
	if form.Has("SourceIdentity") {
		if fail := checkName(sourceIdentity, "sourceIdentity"); fail != nil {
			return nil, fail
		}
	}
	tagBytes, fail := checkTags(form)
	if fail != nil {
		return nil, fail
	}
	packed, fail := checkPolicies(form, tagBytes)
	if fail != nil {
		return nil, fail
	}

	// STS says the same for a role that does not exist, one that does not
	// trust the caller and a wrong external id, so as not to tell an
	// outsider which it was.
	target := s.roles[roleARN]
	if target == nil || !slices.Contains(target.TrustedRoles, src.role.ARN) ||
		(target.ExternalID != "" && form.Get("ExternalId") != target.ExternalID) {
		return nil, &Failure{Code: CodeAccessDenied, Message: fmt.Sprintf(
			"User: %s is not authorized to perform: sts:AssumeRole on resource: %s", src.role.sessionARN(src.name), roleARN)}
	}
	if form.Has("SerialNumber") || form.Has("TokenCode") {
		// A role session has no MFA device, and the fake knows none.
		return nil, &Failure{Code: CodeAccessDenied, Message: "MultiFactorAuthentication failed with invalid MFA one time pass code."}
	}

	// Every caller the fake knows is a role session, so every AssumeRole
	// is role chaining.
	switch {
	case duration == 0:
		duration = defaultDurationSeconds
	case duration > ChainedMaxSeconds:
		return nil, validation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	case duration > target.MaxSessionDuration:
		return nil, maxSessionExceeded()
	}

	creds, err := newCredentials(s.cfg.Now().Add(seconds(duration)))
	if err != nil {
		return nil, internalFailure()
	}
	if sourceIdentity == "" {
		// Once set, a source identity stays with every chained session.
		sourceIdentity = src.sourceIdentity
	}
	return &result{
		action:         ActionAssumeRole,
		creds:          creds,
		role:           target,
		session:        session,
		sourceIdentity: sourceIdentity,
		packed:         packed,
	}, nil
}

// The XML documents of AssumeRole, in the element order of STS's
// documented sample: not the order of AssumeRoleWithWebIdentity's.

type assumeRoleResponse struct {
	XMLName  xml.Name         `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
	Result   assumeRoleResult `xml:"AssumeRoleResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type assumeRoleResult struct {
	SourceIdentity   string                `xml:"SourceIdentity,omitempty"`
	AssumedRoleUser  *assumedRoleUser      `xml:"AssumedRoleUser"`
	Credentials      assumeRoleCredentials `xml:"Credentials"`
	PackedPolicySize int                   `xml:"PackedPolicySize,omitempty"`
}

type assumeRoleCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

func assumeRoleDocument(res *result, user *assumedRoleUser, a *Answer, meta responseMetadata) assumeRoleResponse {
	return assumeRoleResponse{
		Result: assumeRoleResult{
			SourceIdentity:  res.sourceIdentity,
			AssumedRoleUser: user,
			Credentials: assumeRoleCredentials{
				AccessKeyID:     a.AccessKeyID,
				SecretAccessKey: a.SecretAccessKey,
				SessionToken:    a.SessionToken,
				Expiration:      a.Expiration,
			},
			PackedPolicySize: res.packed,
		},
		Metadata: meta,
	}
}
