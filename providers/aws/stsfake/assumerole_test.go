package stsfake_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

// The roles of the chaining tests: the web-identity role testRole, roles
// in two more accounts that trust its sessions, and one that trusts no one.
const (
	chainedRole    = "arn:aws:iam::444455556666:role/deploy-prod"
	vendorRole     = "arn:aws:iam::444455556666:role/vendor"
	shortRole      = "arn:aws:iam::444455556666:role/short"
	lockedRole     = "arn:aws:iam::444455556666:role/locked"
	deepRole       = "arn:aws:iam::777788889999:role/path/deep"
	readOnlyRole   = "arn:aws:iam::777788889999:role/ci-readonly"
	orgRole        = "arn:aws:iam::777788889999:role/org-audience"
	longRole       = "arn:aws:iam::111122223333:role/long"
	previousStep   = "arn:aws:iam::111122223333:role/previous-step"
	testExternalID = "ext-4f1d:vendor"
	orgAudience    = "https://github.com/octo-org"
	chainRegion    = "eu-west-1"
)

func withRoles(c *stsfake.Config) {
	c.Roles = []stsfake.Role{
		{ARN: chainedRole, TrustedRoles: []string{testRole, previousStep}, MaxSessionDuration: 43200},
		{ARN: vendorRole, TrustedRoles: []string{testRole}, ExternalID: testExternalID},
		{ARN: shortRole, TrustedRoles: []string{testRole}, MaxSessionDuration: 900},
		{ARN: lockedRole},
		{ARN: deepRole, TrustedRoles: []string{chainedRole}},
		{ARN: readOnlyRole, Trust: stsfake.TrustPolicy{Audience: testAudience, Subjects: []string{"repo:octo-org/*"}}},
		{ARN: orgRole, Trust: stsfake.TrustPolicy{Audience: orgAudience, Subjects: []string{"*"}}},
		{ARN: longRole, Trust: stsfake.TrustPolicy{Audience: testAudience, Subjects: []string{"*"}}, MaxSessionDuration: 7200},
		{ARN: previousStep},
	}
}

// client is the real SDK client for the fake, signing with creds (nil:
// anonymous, for AssumeRoleWithWebIdentity).
func (e *env) client(creds *stsfake.Credentials, region string) *sts.Client {
	var provider aws.CredentialsProvider = aws.AnonymousCredentials{}
	if creds != nil {
		c := *creds
		provider = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Source: "test"}, nil
		})
	}
	return sts.New(sts.Options{
		Region:       region,
		Credentials:  provider,
		HTTPClient:   e.srv.Client(),
		BaseEndpoint: aws.String(e.srv.URL),
		Retryer:      aws.NopRetryer{},
	})
}

// webIdentity assumes testRole with a fresh token through the SDK.
func (e *env) webIdentity(t *testing.T) *stsfake.Credentials {
	t.Helper()
	out, err := e.client(nil, "us-east-1").AssumeRoleWithWebIdentity(t.Context(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(testRole), RoleSessionName: aws.String("web"), WebIdentityToken: aws.String(e.token(nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return fromSDK(out.Credentials)
}

func fromSDK(c *types.Credentials) *stsfake.Credentials {
	return &stsfake.Credentials{
		AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken), Expiration: aws.ToTime(c.Expiration),
	}
}

// apiError returns the STS error code and message in err, as the SDK
// surfaces them: a modeled exception for codes STS's model lists
// (MalformedPolicyDocument, InvalidIdentityToken…), a
// *smithy.GenericAPIError for the rest (AccessDenied, the signature
// codes…).
func apiError(t *testing.T, err error) (code, msg string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("error = %v, want a smithy.APIError", err)
	}
	return api.ErrorCode(), api.ErrorMessage()
}

// requestBy returns the one recorded request signed by accessKeyID.
func requestBy(t *testing.T, fake *stsfake.Server, accessKeyID string) stsfake.Request {
	t.Helper()
	var found []stsfake.Request
	for _, r := range fake.Requests() {
		if r.CallerAccessKeyID == accessKeyID {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d requests signed by %s, want 1", len(found), accessKeyID)
	}
	return found[0]
}

// TestAssumeRoleSDK drives AssumeRoleWithWebIdentity and then AssumeRole
// with the session's keys through the real SDK client, so the signature
// the fake verifies is the SDK's own.
func TestAssumeRoleSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRoles)
	const denied = "User: arn:aws:sts::111122223333:assumed-role/gha-deploy/web is not authorized to perform: sts:AssumeRole on resource: "

	tests := []struct {
		name string
		in   sts.AssumeRoleInput
		// creds changes the web-identity session's keys before signing.
		creds func(*stsfake.Credentials)
		code  string
		msg   string
		check func(t *testing.T, out *sts.AssumeRoleOutput)
	}{
		{
			name: "trusted role in another account",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole)},
			check: func(t *testing.T, out *sts.AssumeRoleOutput) {
				t.Helper()
				if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::444455556666:assumed-role/deploy-prod/chained" {
					t.Errorf("Arn = %q", got)
				}
				if got := aws.ToString(out.AssumedRoleUser.AssumedRoleId); !regexp.MustCompile(`^AROA[A-Z0-9]{17}:chained$`).MatchString(got) {
					t.Errorf("AssumedRoleId = %q", got)
				}
				if got := aws.ToTime(out.Credentials.Expiration); !got.Equal(e.now.Add(time.Hour)) {
					t.Errorf("Expiration = %v, want the chained default of an hour", got)
				}
				if out.SourceIdentity != nil {
					t.Errorf("SourceIdentity = %q, want none", aws.ToString(out.SourceIdentity))
				}
			},
		},
		{
			name: "an hour asked for",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), DurationSeconds: aws.Int32(3600)},
		},
		{
			name: "over the chaining limit",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), DurationSeconds: aws.Int32(7200)},
			code: "ValidationError", msg: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
		},
		{
			name: "over the role's maximum",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(shortRole), DurationSeconds: aws.Int32(1800)},
			code: "ValidationError", msg: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
		},
		{
			name: "under the minimum",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), DurationSeconds: aws.Int32(899)},
			code: "ValidationError",
		},
		{
			name: "untrusted source role",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(lockedRole)},
			code: "AccessDenied", msg: denied + lockedRole,
		},
		{
			name: "trusted only by a chained role",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(deepRole)},
			code: "AccessDenied", msg: denied + deepRole,
		},
		{
			name: "unknown role",
			in:   sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444455556666:role/nope")},
			code: "AccessDenied", msg: denied + "arn:aws:iam::444455556666:role/nope",
		},
		{
			name: "external id missing",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(vendorRole)},
			code: "AccessDenied", msg: denied + vendorRole,
		},
		{
			name: "external id wrong",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(vendorRole), ExternalId: aws.String("ext-other")},
			code: "AccessDenied", msg: denied + vendorRole,
		},
		{
			name: "external id right",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(vendorRole), ExternalId: aws.String(testExternalID)},
		},
		{
			name: "external id malformed",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(vendorRole), ExternalId: aws.String("a b")},
			code: "ValidationError",
		},
		{
			name:  "wrong secret",
			in:    sts.AssumeRoleInput{RoleArn: aws.String(chainedRole)},
			creds: func(c *stsfake.Credentials) { c.SecretAccessKey = strings.Repeat("x", 40) },
			code:  "SignatureDoesNotMatch",
		},
		{
			name:  "unknown key",
			in:    sts.AssumeRoleInput{RoleArn: aws.String(chainedRole)},
			creds: func(c *stsfake.Credentials) { c.AccessKeyID = "FAKE-NEVER-ISSUED-KEY" },
			code:  "InvalidClientTokenId", msg: "The security token included in the request is invalid.",
		},
		{
			name:  "another session's token",
			in:    sts.AssumeRoleInput{RoleArn: aws.String(chainedRole)},
			creds: func(c *stsfake.Credentials) { c.SessionToken = "FAKE-another-session-token" },
			code:  "InvalidClientTokenId",
		},
		{
			name:  "no session token",
			in:    sts.AssumeRoleInput{RoleArn: aws.String(chainedRole)},
			creds: func(c *stsfake.Credentials) { c.SessionToken = "" },
			code:  "InvalidClientTokenId",
		},
		{
			name: "bad session name",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), RoleSessionName: aws.String("a b")},
			code: "ValidationError",
		},
		{
			name: "session policies, tags and a source identity",
			in: sts.AssumeRoleInput{
				RoleArn:           aws.String(chainedRole),
				Policy:            aws.String(`{"Version":"2012-10-17","Statement":[]}`),
				PolicyArns:        []types.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}},
				Tags:              []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}, {Key: aws.String("env"), Value: aws.String("")}},
				TransitiveTagKeys: []string{"team"},
				SourceIdentity:    aws.String("octocat"),
			},
			check: func(t *testing.T, out *sts.AssumeRoleOutput) {
				t.Helper()
				if got := aws.ToString(out.SourceIdentity); got != "octocat" {
					t.Errorf("SourceIdentity = %q", got)
				}
			},
		},
		{
			name: "policy not json",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), Policy: aws.String("{nope")},
			code: "MalformedPolicyDocument",
		},
		{
			name: "51 tags",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), Tags: manyTags(51)},
			code: "ValidationError",
		},
		{
			name: "50 tags",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), Tags: manyTags(50)},
		},
		{
			name: "tag key too long",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), Tags: []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}},
			code: "ValidationError",
		},
		{
			name: "tag value too long",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}},
			code: "ValidationError",
		},
		{
			name: "tag keys differing in case",
			in: sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), Tags: []types.Tag{
				{Key: aws.String("Team"), Value: aws.String("a")}, {Key: aws.String("team"), Value: aws.String("b")},
			}},
			code: "ValidationError",
		},
		{
			name: "transitive key too long",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), TransitiveTagKeys: []string{strings.Repeat("k", 129)}},
			code: "ValidationError",
		},
		{
			name: "MFA",
			in:   sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), SerialNumber: aws.String("arn:aws:iam::111122223333:mfa/octocat"), TokenCode: aws.String("123456")},
			code: "AccessDenied",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			creds := e.webIdentity(t)
			if tt.creds != nil {
				tt.creds(creds)
			}
			in := tt.in
			if in.RoleSessionName == nil {
				in.RoleSessionName = aws.String("chained")
			}
			out, err := e.client(creds, chainRegion).AssumeRole(t.Context(), &in)
			rec := requestBy(t, e.fake, creds.AccessKeyID)
			if rec.Action != "AssumeRole" || rec.RoleARN != aws.ToString(in.RoleArn) || rec.Region != chainRegion {
				t.Errorf("recorded %s of %s in %q", rec.Action, rec.RoleARN, rec.Region)
			}
			if tt.code != "" {
				code, msg := apiError(t, err)
				if code != tt.code || (tt.msg != "" && msg != tt.msg) {
					t.Errorf("error = %s %q, want %s %q", code, msg, tt.code, tt.msg)
				}
				var generic *smithy.GenericAPIError
				if tt.code == "SignatureDoesNotMatch" && !errors.As(err, &generic) {
					t.Errorf("error = %T, want the *smithy.GenericAPIError callers classify by code", err)
				}
				if rec.Code != tt.code || rec.Issued != nil {
					t.Errorf("recorded %q, issued %v", rec.Code, rec.Issued != nil)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.SourceRoleARN != testRole || rec.Code != "" || rec.Issued == nil || rec.Issued.AccessKeyID != aws.ToString(out.Credentials.AccessKeyId) {
				t.Errorf("recorded source %q, code %q, issued %+v", rec.SourceRoleARN, rec.Code, rec.Issued)
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

func manyTags(n int) []types.Tag {
	tags := make([]types.Tag, n)
	for i := range tags {
		tags[i] = types.Tag{Key: aws.String("k" + strconv.Itoa(i)), Value: aws.String("v")}
	}
	return tags
}

// TestChainedSessionsChainOn checks that a chained session may sign
// AssumeRole in turn, as the role its trust names, and that the SDK's
// serialization of tags is what the fake parses.
func TestChainedSessionsChainOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRoles)
	web := e.webIdentity(t)
	out, err := e.client(web, chainRegion).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String(chainedRole), RoleSessionName: aws.String("hop1"), SourceIdentity: aws.String("octocat"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}, TransitiveTagKeys: []string{"team"},
	})
	if err != nil {
		t.Fatal(err)
	}
	hop1 := fromSDK(out.Credentials)
	wantForm := url.Values{
		"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {chainedRole}, "RoleSessionName": {"hop1"},
		"SourceIdentity": {"octocat"}, "Tags.member.1.Key": {"team"}, "Tags.member.1.Value": {"platform"},
		"TransitiveTagKeys.member.1": {"team"},
	}
	if diff := cmp.Diff(wantForm, requestBy(t, e.fake, web.AccessKeyID).Form); diff != "" {
		t.Errorf("the SDK's form (-want +got):\n%s", diff)
	}

	out2, err := e.client(hop1, "ap-southeast-2").AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String(deepRole), RoleSessionName: aws.String("hop2"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out2.AssumedRoleUser.Arn); got != "arn:aws:sts::777788889999:assumed-role/deep/hop2" {
		t.Errorf("Arn = %q", got)
	}
	if got := aws.ToString(out2.SourceIdentity); got != "octocat" {
		t.Errorf("SourceIdentity = %q, want the one set on the first hop", got)
	}
	rec := requestBy(t, e.fake, hop1.AccessKeyID)
	if rec.SourceRoleARN != chainedRole || rec.Region != "ap-southeast-2" {
		t.Errorf("recorded source %q in %q", rec.SourceRoleARN, rec.Region)
	}

	// The second hop's session is not one deepRole trusts to chain back.
	_, err = e.client(fromSDK(out2.Credentials), chainRegion).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String(deepRole), RoleSessionName: aws.String("hop3"),
	})
	if code, msg := apiError(t, err); code != "AccessDenied" || !strings.HasPrefix(msg, "User: arn:aws:sts::777788889999:assumed-role/deep/hop2 ") {
		t.Errorf("error = %s %q", code, msg)
	}
}

// clock is a Config.Now a test can move.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestExpiredSession(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// mint returns the source session.
		mint    func(t *testing.T, e *env) *stsfake.Credentials
		advance time.Duration
		code    string
	}{
		{name: "web identity, fresh", mint: func(t *testing.T, e *env) *stsfake.Credentials { t.Helper(); return e.webIdentity(t) }, advance: 59 * time.Minute},
		{name: "web identity, expired", mint: func(t *testing.T, e *env) *stsfake.Credentials { t.Helper(); return e.webIdentity(t) }, advance: time.Hour, code: "ExpiredToken"},
		{name: "issued, expired", mint: func(t *testing.T, e *env) *stsfake.Credentials {
			t.Helper()
			c, err := e.fake.Issue(previousStep, 10*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return &c
		}, advance: 11 * time.Minute, code: "ExpiredToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{now: time.Now().UTC().Truncate(time.Second)}
			e := newEnv(t, func(c *stsfake.Config) { withRoles(c); c.Now = clk.Now })
			e.now = clk.Now()
			creds := tt.mint(t, e)
			clk.Advance(tt.advance)
			_, err := e.client(creds, chainRegion).AssumeRole(t.Context(), &sts.AssumeRoleInput{
				RoleArn: aws.String(chainedRole), RoleSessionName: aws.String("late"),
			})
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if code, msg := apiError(t, err); code != tt.code || msg != "The security token included in the request is expired" {
				t.Errorf("error = %s %q", code, msg)
			}
		})
	}
}

// TestIssue covers the session a test puts in the environment, as if an
// earlier step had exported it, for role-chaining: true.
func TestIssue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRoles)
	creds, err := e.fake.Issue(previousStep, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !creds.Expiration.Equal(e.now.Add(time.Hour)) || !strings.HasPrefix(creds.AccessKeyID, "ASIA") {
		t.Errorf("Issue() = key %q expiring %v", creds.AccessKeyID, creds.Expiration)
	}
	out, err := e.client(&creds, chainRegion).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String(chainedRole), RoleSessionName: aws.String("from-env"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::444455556666:assumed-role/deploy-prod/from-env" {
		t.Errorf("Arn = %q", got)
	}
	if rec := requestBy(t, e.fake, creds.AccessKeyID); rec.SourceRoleARN != previousStep {
		t.Errorf("SourceRoleARN = %q", rec.SourceRoleARN)
	}

	other, err := e.fake.Issue(previousStep, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client(&other, chainRegion).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String(vendorRole), RoleSessionName: aws.String("from-env"), ExternalId: aws.String(testExternalID),
	})
	want := "User: arn:aws:sts::111122223333:assumed-role/previous-step/" + stsfake.IssuedSessionName +
		" is not authorized to perform: sts:AssumeRole on resource: " + vendorRole
	if code, msg := apiError(t, err); code != "AccessDenied" || msg != want {
		t.Errorf("error = %s %q, want AccessDenied %q", code, msg, want)
	}

	for _, bad := range []struct {
		role string
		d    time.Duration
	}{{"arn:aws:iam::111122223333:role/nope", time.Hour}, {previousStep, 0}} {
		if _, err := e.fake.Issue(bad.role, bad.d); err == nil {
			t.Errorf("Issue(%q, %v) succeeded", bad.role, bad.d)
		}
	}
}

// TestWebIdentityRoles checks that AssumeRoleWithWebIdentity picks the role
// by RoleArn and applies that role's trust and maximum.
func TestWebIdentityRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRoles)
	tests := []struct {
		name     string
		role     string
		audience string
		duration int32
		code     string
		arn      string
	}{
		{name: "first role", role: testRole, arn: "arn:aws:sts::111122223333:assumed-role/gha-deploy/web"},
		{name: "second account", role: readOnlyRole, arn: "arn:aws:sts::777788889999:assumed-role/ci-readonly/web"},
		{name: "role's own audience", role: orgRole, audience: orgAudience, arn: "arn:aws:sts::777788889999:assumed-role/org-audience/web"},
		{name: "another role's audience", role: testRole, audience: orgAudience, code: "AccessDenied"},
		{name: "nobody's audience", role: orgRole, audience: "https://example.localhost", code: "InvalidIdentityToken"},
		{name: "role without web identity trust", role: chainedRole, code: "AccessDenied"},
		{name: "unknown role", role: "arn:aws:iam::777788889999:role/nope", code: "AccessDenied"},
		{name: "role's maximum", role: longRole, duration: 7200, arn: "arn:aws:sts::111122223333:assumed-role/long/web"},
		{name: "over the role's maximum", role: longRole, duration: 7201, code: "ValidationError"},
		{name: "over another role's maximum", role: testRole, duration: 7200, code: "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			aud := tt.audience
			if aud == "" {
				aud = testAudience
			}
			in := &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String(tt.role), RoleSessionName: aws.String("web"), WebIdentityToken: aws.String(e.issuer.Mint(aud, e.now, nil)),
			}
			if tt.duration != 0 {
				in.DurationSeconds = aws.Int32(tt.duration)
			}
			out, err := e.client(nil, "us-east-1").AssumeRoleWithWebIdentity(t.Context(), in)
			if tt.code != "" {
				if code, _ := apiError(t, err); code != tt.code {
					t.Errorf("code = %s, want %s", code, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.AssumedRoleUser.Arn); got != tt.arn {
				t.Errorf("Arn = %q, want %q", got, tt.arn)
			}
			if got := aws.ToString(out.Audience); got != aud {
				t.Errorf("Audience = %q, want %q", got, aud)
			}
		})
	}
}

func TestFailNextForOneAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRoles)
	e.fake.FailNext(stsfake.Failure{Action: stsfake.ActionAssumeRole, Code: "Throttling", Message: "Rate exceeded"})
	web := e.webIdentity(t)
	in := &sts.AssumeRoleInput{RoleArn: aws.String(chainedRole), RoleSessionName: aws.String("retry")}
	_, err := e.client(web, chainRegion).AssumeRole(t.Context(), in)
	if code, _ := apiError(t, err); code != "Throttling" {
		t.Errorf("code = %s, want the scripted Throttling", code)
	}
	if _, err := e.client(web, chainRegion).AssumeRole(t.Context(), in); err != nil {
		t.Errorf("after the script: %v", err)
	}
}

func TestShapedAssumeRoleAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRoles)
	web := e.webIdentity(t)
	e.fake.ShapeAnswers(stsfake.SeaweedFS)
	out, err := e.client(web, chainRegion).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String(chainedRole), RoleSessionName: aws.String("shaped"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.AssumedRoleUser != nil {
		t.Errorf("AssumedRoleUser = %+v, want none", out.AssumedRoleUser)
	}
}

// signed builds a POST of form signed with SigV4 by creds; edit may
// change it after signing.
func (e *env) signed(t *testing.T, form url.Values, creds *stsfake.Credentials, sign func(*signing), edit func(*http.Request)) *http.Request {
	t.Helper()
	body := form.Encode()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	s := signing{
		creds:   aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken},
		hash:    hex.EncodeToString(sum[:]),
		service: "sts", region: chainRegion, at: time.Now(),
	}
	if sign != nil {
		sign(&s)
	}
	for k, vs := range s.header {
		req.Header[k] = vs
	}
	if err := v4.NewSigner().SignHTTP(t.Context(), s.creds, req, s.hash, s.service, s.region, s.at); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	return req
}

type signing struct {
	// header is set on the request before signing.
	header  http.Header
	creds   aws.Credentials
	hash    string
	service string
	region  string
	at      time.Time
}

func (e *env) do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, []byte(b.String())
}

// TestSignature covers what the SDK never sends: malformed, stale and
// tampered signatures, written with the SDK's signer and then changed.
func TestSignature(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRoles)
	web := e.webIdentity(t)
	form := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {chainedRole}, "RoleSessionName": {"raw"}}
	setAuth := func(v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set("Authorization", v) } }
	replaceAuth := func(old, repl string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, repl, 1))
		}
	}

	tests := []struct {
		name   string
		sign   func(*signing)
		edit   func(*http.Request)
		status int
		code   string
	}{
		{name: "valid", status: 200},
		{name: "any region", sign: func(s *signing) { s.region = "mars-north-1" }, status: 200},
		{name: "security token added after signing", sign: func(s *signing) { s.creds.SessionToken = "" }, edit: func(r *http.Request) {
			r.Header.Set("X-Amz-Security-Token", web.SessionToken)
		}, status: 200},
		{name: "unsigned header added", edit: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "127.0.0.1") }, status: 200},
		{name: "no authorization", edit: func(r *http.Request) { r.Header.Del("Authorization") }, status: 403, code: "MissingAuthenticationToken"},
		{name: "query signature", edit: func(r *http.Request) {
			r.Header.Del("Authorization")
			r.URL.RawQuery = "X-Amz-Signature=00"
		}, status: 400, code: "IncompleteSignature"},
		{name: "other algorithm", edit: replaceAuth("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"), status: 400, code: "IncompleteSignature"},
		{name: "no signature", edit: setAuth("AWS4-HMAC-SHA256 Credential=" + web.AccessKeyID + "/20250101/eu-west-1/sts/aws4_request, SignedHeaders=host"), status: 400, code: "IncompleteSignature"},
		{name: "short scope", edit: replaceAuth("/sts/aws4_request", "/aws4_request"), status: 400, code: "IncompleteSignature"},
		{name: "no date", edit: func(r *http.Request) { r.Header.Del("X-Amz-Date") }, status: 400, code: "IncompleteSignature"},
		{name: "bad date", edit: func(r *http.Request) { r.Header.Set("X-Amz-Date", "yesterday") }, status: 400, code: "IncompleteSignature"},
		{name: "scope date", edit: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", time.Now().UTC().Add(48*time.Hour).Format("20060102T150405Z"))
		}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "other service", sign: func(s *signing) { s.service = "s3" }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "other terminator", edit: replaceAuth("aws4_request", "aws5_request"), status: 403, code: "SignatureDoesNotMatch"},
		{name: "date changed", edit: func(r *http.Request) {
			d, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
			if err == nil {
				r.Header.Set("X-Amz-Date", d.Add(time.Second).Format("20060102T150405Z"))
			}
		}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "body changed", edit: func(r *http.Request) {
			body := strings.Replace(form.Encode(), "raw", "rax", 1)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "payload hash not the body's", sign: func(s *signing) { s.hash = strings.Repeat("0", 64) }, edit: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
		}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "signed header changed", edit: func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "signed headers reordered", edit: replaceAuth("content-length;content-type", "content-type;content-length"), status: 403, code: "SignatureDoesNotMatch"},
		{name: "wrong secret", sign: func(s *signing) { s.creds.SecretAccessKey += "x" }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "unknown key", sign: func(s *signing) { s.creds.AccessKeyID = "FAKE-NEVER-ISSUED-KEY" }, status: 403, code: "InvalidClientTokenId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := e.signed(t, form, web, tt.sign, tt.edit)
			status, body := e.do(t, req)
			if status != tt.status {
				t.Errorf("status = %d, want %d\n%s", status, tt.status, body)
			}
			if tt.code == "" {
				return
			}
			var doc errorDoc
			if err := xml.Unmarshal(body, &doc); err != nil || doc.Code != tt.code || doc.Message == "" {
				t.Errorf("answer = %+v (%v), want %s", doc, err, tt.code)
			}
			if strings.Contains(string(body), web.SecretAccessKey) || strings.Contains(string(body), web.SessionToken) {
				t.Error("the answer echoes a secret")
			}
		})
	}
}

// TestDeclaredPayloadHash signs X-Amz-Content-Sha256, as S3 clients do.
func TestDeclaredPayloadHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRoles)
	web := e.webIdentity(t)
	form := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {chainedRole}, "RoleSessionName": {"raw"}}
	req := e.signed(t, form, web, func(s *signing) {
		s.header = http.Header{"X-Amz-Content-Sha256": {s.hash}}
	}, nil)
	if !strings.Contains(req.Header.Get("Authorization"), "x-amz-content-sha256") {
		t.Fatalf("the header is not signed: %s", req.Header.Get("Authorization"))
	}
	if status, body := e.do(t, req); status != http.StatusOK {
		t.Errorf("status = %d\n%s", status, body)
	}
}

// TestAssumeRoleDocument checks the answer's XML against STS's documented
// sample: its root, namespace and element order.
func TestAssumeRoleDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRoles)
	web := e.webIdentity(t)
	form := url.Values{
		"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {chainedRole}, "RoleSessionName": {"doc"},
		"SourceIdentity": {"octocat"}, "Policy": {`{"Version":"2012-10-17"}`},
	}
	status, body := e.do(t, e.signed(t, form, web, nil, nil))
	if status != http.StatusOK {
		t.Fatalf("status = %d\n%s", status, body)
	}
	doc := string(body)
	order := []string{
		`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`, "<AssumeRoleResult>",
		"<SourceIdentity>octocat</SourceIdentity>", "<AssumedRoleUser>", "<Arn>", "<AssumedRoleId>", "</AssumedRoleUser>",
		"<Credentials>", "<AccessKeyId>", "<SecretAccessKey>", "<SessionToken>", "<Expiration>", "</Credentials>",
		"<PackedPolicySize>", "</AssumeRoleResult>", "<ResponseMetadata>", "<RequestId>",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(doc[at:], want)
		if i < 0 {
			t.Fatalf("%s missing or out of order in\n%s", want, doc)
		}
		at += i + len(want)
	}
	for _, gone := range []string{"SubjectFromWebIdentityToken", "Provider", "Audience"} {
		if strings.Contains(doc, gone) {
			t.Errorf("the AssumeRole answer has %s", gone)
		}
	}

	// Without session policies, tags or a source identity, STS leaves
	// their elements out.
	bare := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {chainedRole}, "RoleSessionName": {"bare"}}
	status, body = e.do(t, e.signed(t, bare, web, nil, nil))
	if status != http.StatusOK {
		t.Fatalf("status = %d\n%s", status, body)
	}
	for _, gone := range []string{"PackedPolicySize", "SourceIdentity"} {
		if strings.Contains(string(body), gone) {
			t.Errorf("the bare answer has %s:\n%s", gone, body)
		}
	}
	// Tags count toward the packed size, as at STS.
	tagged := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {chainedRole}, "RoleSessionName": {"tagged"},
		"Tags.member.1.Key": {"team"}, "Tags.member.1.Value": {"platform"}}
	status, body = e.do(t, e.signed(t, tagged, web, nil, nil))
	var packed struct {
		Size int `xml:"AssumeRoleResult>PackedPolicySize"`
	}
	if err := xml.Unmarshal(body, &packed); status != http.StatusOK || err != nil || packed.Size < 1 {
		t.Errorf("tagged answer: %d, %v, PackedPolicySize %d\n%s", status, err, packed.Size, body)
	}
}

func TestNewValidatesRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	base := func() stsfake.Config {
		return stsfake.Config{Issuer: e.issuer.URL, KeySet: e.issuer.KeySet(t.Context()), RoleARN: testRole, Trust: stsfake.TrustPolicy{Audience: testAudience}}
	}
	tests := []struct {
		name    string
		edit    func(*stsfake.Config)
		ok      bool
		account string
	}{
		{"roles", withRoles, true, "111122223333"},
		{"roles only", func(c *stsfake.Config) {
			c.RoleARN, c.Trust = "", stsfake.TrustPolicy{}
			c.Roles = []stsfake.Role{{ARN: chainedRole}, {ARN: testRole}}
		}, true, "444455556666"},
		{"no role at all", func(c *stsfake.Config) { c.RoleARN = "" }, false, ""},
		{"duplicate of the first", func(c *stsfake.Config) { c.Roles = []stsfake.Role{{ARN: testRole}} }, false, ""},
		{"duplicate", func(c *stsfake.Config) { c.Roles = []stsfake.Role{{ARN: chainedRole}, {ARN: chainedRole}} }, false, ""},
		{"not a role", func(c *stsfake.Config) { c.Roles = []stsfake.Role{{ARN: "arn:aws:iam::444455556666:user/x"}} }, false, ""},
		{"bad trusted role", func(c *stsfake.Config) {
			c.Roles = []stsfake.Role{{ARN: chainedRole, TrustedRoles: []string{"gha-deploy"}}}
		}, false, ""},
		{"bad external id", func(c *stsfake.Config) { c.Roles = []stsfake.Role{{ARN: chainedRole, ExternalID: "a b"}} }, false, ""},
		{"bad max", func(c *stsfake.Config) { c.Roles = []stsfake.Role{{ARN: chainedRole, MaxSessionDuration: 43201}} }, false, ""},
		{"subjects without audience", func(c *stsfake.Config) {
			c.Roles = []stsfake.Role{{ARN: chainedRole, Trust: stsfake.TrustPolicy{Subjects: []string{"*"}}}}
		}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := base()
			tt.edit(&cfg)
			s, err := stsfake.New(cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New() error = %v, want ok = %v", err, tt.ok)
			}
			if err == nil && s.AccountID() != tt.account {
				t.Errorf("AccountID() = %q, want %q", s.AccountID(), tt.account)
			}
		})
	}
}

// TestRequestsRecordActions checks the action and role of both kinds of
// request, and that nothing but the fake's own sessions is in a record.
func TestRequestsRecordActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRoles)
	web := e.webIdentity(t)
	if _, err := e.client(web, chainRegion).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String(chainedRole), RoleSessionName: aws.String("rec"),
	}); err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, r := range e.fake.Requests() {
		got = append(got, []string{r.Action, r.RoleARN, r.Region, r.CallerAccessKeyID, r.SourceRoleARN})
	}
	want := [][]string{
		{"AssumeRoleWithWebIdentity", testRole, "", "", ""},
		{"AssumeRole", chainedRole, chainRegion, web.AccessKeyID, testRole},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if slices.ContainsFunc(e.fake.Requests(), func(r stsfake.Request) bool {
		return strings.Contains(r.Form.Encode(), web.SecretAccessKey)
	}) {
		t.Error("a recorded form holds the signing secret")
	}
}

// FuzzAssumeRole checks that any body and any Authorization, X-Amz-Date
// and X-Amz-Security-Token headers get a well-formed STS answer and never
// a panic: the header parsing, the credential scope and the re-signing
// all read what the caller sent.
func FuzzAssumeRole(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	fake, err := stsfake.New(stsfake.Config{
		Issuer:  "https://token.actions.githubusercontent.com",
		KeySet:  &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{key.Public()}},
		RoleARN: testRole,
		Trust:   stsfake.TrustPolicy{Audience: testAudience, Subjects: []string{"*"}},
		Roles:   []stsfake.Role{{ARN: chainedRole, TrustedRoles: []string{testRole}}},
	})
	if err != nil {
		f.Fatal(err)
	}
	creds, err := fake.Issue(testRole, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	body := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {chainedRole}, "RoleSessionName": {"fuzz"},
		"Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"}, "TransitiveTagKeys.member.1": {"k"}}.Encode()
	req := httptest.NewRequestWithContext(f.Context(), http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(f.Context(), aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken},
		req, hex.EncodeToString(sum[:]), "sts", "us-east-1", time.Now()); err != nil {
		f.Fatal(err)
	}
	f.Add(body, req.Header.Get("Authorization"), req.Header.Get("X-Amz-Date"), creds.SessionToken)
	f.Add(body, "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host;;content-length, Signature=zz", "20250101T000000Z", "")
	f.Add("Action=AssumeRole&Version=2011-06-15&Tags.member.01.Key=a&Tags.member.1.Key=b&PolicyArns.member.1=x", "AWS4-HMAC-SHA256 ,,,=", "2025", "x")
	f.Add("%zz", "", "", "")
	f.Fuzz(func(t *testing.T, body, authorization, amzDate, token string) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range map[string]string{"Authorization": authorization, "X-Amz-Date": amzDate, "X-Amz-Security-Token": token} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var doc struct {
				AccessKeyID string `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.AccessKeyID == "" {
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
		if strings.Contains(rec.Body.String(), creds.SecretAccessKey) {
			t.Fatal("the answer echoes the signing secret")
		}
	})
}
