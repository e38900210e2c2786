package aws

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestParseAssumedRoleARN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want AssumedRole
		ok   bool
	}{
		{"arn:aws:sts::111122223333:assumed-role/gha-deploy/GitHubActions-1-1", AssumedRole{"aws", "111122223333", "gha-deploy", "GitHubActions-1-1"}, true},
		{"arn:aws-cn:sts::111122223333:assumed-role/r/s@x.y", AssumedRole{"aws-cn", "111122223333", "r", "s@x.y"}, true},
		{"arn:aws:sts::111122223333:assumed-role/r", AssumedRole{}, false},
		{"arn:aws:sts::111122223333:assumed-role/r/s/t", AssumedRole{}, false},
		{"arn:aws:sts::111122223333:assumed-role//s1", AssumedRole{}, false},
		{"arn:aws:sts::111122223333:assumed-role/r/s", AssumedRole{}, false}, // session shorter than 2
		{"arn:aws:sts::111122223333:federated-user/bob", AssumedRole{}, false},
		{"arn:aws:iam::111122223333:role/r", AssumedRole{}, false},
		{"arn:aws:sts:us-east-1:111122223333:assumed-role/r/s1", AssumedRole{}, false},
		{"arn:aws:sts::11112222333:assumed-role/r/s1", AssumedRole{}, false},
		{"arn::sts::111122223333:assumed-role/r/s1", AssumedRole{}, false},
		{"arn:aws:sts::111122223333:assumed-role/r/s1\n::error::x", AssumedRole{}, false},
		{"", AssumedRole{}, false},
	}
	for _, tt := range tests {
		got, err := ParseAssumedRoleARN(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseAssumedRoleARN(%q) = %+v, %v; want %+v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseAssumedRoleARN checks that whatever an STS answer holds, an
// accepted ARN has exactly the documented shape and round-trips.
func FuzzParseAssumedRoleARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:sts::111122223333:assumed-role/gha-deploy/GitHubActions-1-1",
		"arn:aws-us-gov:sts::111122223333:assumed-role/r/s=,.@-",
		"arn:aws:sts::111122223333:assumed-role/r/s/t",
		"arn:aws:sts::111122223333:assumed-role/",
		"arn:::::",
		"arn:aws:sts::111122223333:assumed-role/r/\x00\xff",
	} {
		f.Add(s)
	}
	nameRE := regexp.MustCompile(`^[\w+=,.@-]+$`)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAssumedRoleARN(s)
		if err != nil {
			if got != (AssumedRole{}) {
				t.Fatalf("error %v with a non-zero result %+v", err, got)
			}
			return
		}
		if !accountIDRE().MatchString(got.AccountID) || !nameRE.MatchString(got.RoleName) || !nameRE.MatchString(got.SessionName) ||
			len(got.SessionName) < 2 || len(got.SessionName) > 64 || got.Partition == "" {
			t.Fatalf("accepted %q as %+v", s, got)
		}
		again := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", got.Partition, got.AccountID, got.RoleName, got.SessionName)
		if again != s {
			t.Fatalf("%q parsed as %+v, which reads back as %q", s, got, again)
		}
	})
}

// FuzzSanitizeSessionName checks that any claim value yields a name STS
// accepts, and that valid names pass unchanged.
func FuzzSanitizeSessionName(f *testing.F) {
	for _, s := range []string{"", "a", "GitHubActions-1-1", "a b/c\nd", strings.Repeat("x", 70), "é☃", "{{.x}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SanitizeSessionName(s)
		if !sessionNameRE().MatchString(got) {
			t.Fatalf("SanitizeSessionName(%q) = %q, which STS rejects", s, got)
		}
		if sessionNameRE().MatchString(s) && got != s {
			t.Fatalf("SanitizeSessionName(%q) = %q, changed a valid name", s, got)
		}
	})
}

// FuzzValidate checks that Validate never panics and that whatever it
// accepts as a role ARN and session name, STS's own patterns accept too.
func FuzzValidate(f *testing.F) {
	f.Add("us-east-1", testRole, "", 0, `{"Version":"2012-10-17"}`, "arn:aws:iam::aws:policy/ReadOnlyAccess", "https://sts.amazonaws.com")
	f.Add("cn-north-1", "arn:aws-cn:iam::111122223333:role/a/b/c", "s@x", 900, "", "", "http://127.0.0.1:1")
	f.Add("x", "role", "a b", -1, "[]", "arn:", "ftp://x")
	f.Fuzz(func(t *testing.T, region, role, session string, duration int, policy, managed, endpoint string) {
		cfg := Config{
			Region: region, RoleARN: role, SessionName: session, DurationSeconds: duration,
			InlineSessionPolicy: policy, STSEndpoint: endpoint,
		}
		if managed != "" {
			cfg.ManagedSessionPolicies = []string{managed}
		}
		if err := cfg.Validate(); err != nil {
			return
		}
		if session != "" && !sessionNameRE().MatchString(session) {
			t.Fatalf("accepted session name %q", session)
		}
		if len(role) < 20 || strings.ContainsAny(role, " \n\r\t") {
			t.Fatalf("accepted role ARN %q", role)
		}
		if _, err := compactPolicy(policy); err != nil {
			t.Fatalf("accepted policy %q that does not compact: %v", policy, err)
		}
	})
}

// FuzzRoles: any roles text is either refused as an input error or split
// into parts that each name a valid profile and role, the chained ones
// no longer than AWS's chained-session limit, with no profile twice.
func FuzzRoles(f *testing.F) {
	for _, seed := range []string{
		"dev=arn:aws:iam::111122223333:role/a",
		"a = arn:aws:iam::111122223333:role/a > arn:aws:iam::444455556666:role/b\n# c\nb=arn:aws:iam::111122223333:role/c",
		"a=b=c", "=arn:aws:iam::111122223333:role/a", "a=arn:aws:iam::111122223333:role/a\na=arn:aws:iam::111122223333:role/a",
		"[x]=arn:aws:iam::111122223333:role/a", "a=arn:aws:iam::111122223333:role/a>>", "\r\n\r\n",
	} {
		f.Add(seed, 0)
	}
	f.Fuzz(func(t *testing.T, text string, duration int) {
		c := Config{Region: "us-east-1", Roles: strings.Split(text, "\n"), DurationSeconds: duration}
		parts, err := c.Parts()
		if err != nil {
			if !strings.Contains(err.Error(), "invalid input") {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, p := range parts {
			if seen[p.Profile] || validateProfileName("roles", p.Profile) != nil || ValidateRoleARN(p.RoleARN) != nil {
				t.Fatalf("part %q=%q is not valid or repeated", p.Profile, p.RoleARN)
			}
			seen[p.Profile] = true
			if len(p.chain) > 0 && p.DurationSeconds > MaxChainedDurationSeconds {
				t.Fatalf("a chained part lasts %d s", p.DurationSeconds)
			}
		}
	})
}
