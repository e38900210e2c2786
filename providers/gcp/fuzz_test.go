package gcp

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
)

// FuzzValidateWorkloadIdentityProvider checks that an accepted provider
// name has exactly the documented shape, so it can be put into the STS
// audience, a principal set and a URL without escaping.
func FuzzValidateWorkloadIdentityProvider(f *testing.F) {
	for _, s := range []string{
		testProvider,
		"//iam.googleapis.com/" + testProvider,
		"projects/my-project/locations/global/workloadIdentityPools/github/providers/octo-repo",
		"projects/1/locations/global/workloadIdentityPools/abcd/providers/abcd/",
		"projects//locations/global/workloadIdentityPools//providers/",
		"projects/1/locations/global/workloadIdentityPools/a\nb/providers/abcd",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateWorkloadIdentityProvider(s)
		if err != nil {
			return
		}
		parts := strings.Split(s, "/")
		if len(parts) != 8 || parts[0] != "projects" || parts[2] != "locations" || parts[3] != "global" ||
			parts[4] != "workloadIdentityPools" || parts[6] != "providers" {
			t.Fatalf("accepted %q", s)
		}
		if !isDigits(parts[1]) {
			t.Fatalf("accepted a non-numeric project in %q", s)
		}
		for _, id := range []string{parts[5], parts[7]} {
			if len(id) < 4 || len(id) > 32 || strings.ContainsFunc(id, func(r rune) bool {
				return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-'
			}) {
				t.Fatalf("accepted id %q in %q", id, s)
			}
		}
		if url.PathEscape(s) != strings.ReplaceAll(s, "/", "%2F") {
			t.Fatalf("%q needs escaping in a URL path", s)
		}
	})
}

// FuzzValidateEmail checks that an accepted email stays inside one URL
// path segment and one log line.
func FuzzValidateEmail(f *testing.F) {
	for _, s := range []string{
		testSA, testUser, "a@b", "a b@c.d", "a/b@c.d", "@c.d", "a@", "a@b..c", "ü@b.c", "a@b.c\n",
		"123456789-compute@developer.gserviceaccount.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateEmail("service-account", s) != nil {
			return
		}
		local, domain, ok := strings.Cut(s, "@")
		if !ok || local == "" || !strings.Contains(domain, ".") || strings.Contains(domain, "@") {
			t.Fatalf("accepted %q", s)
		}
		if strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII || strings.ContainsRune(`/?#%:\'"`, r)
		}) {
			t.Fatalf("accepted %q, which could leave a path segment or a log line", s)
		}
		if got := ProjectIDFromServiceAccount(s); got != "" && !projectIDRE().MatchString(got) {
			t.Fatalf("derived project id %q from %q", got, s)
		}
	})
}

// FuzzParseLifetime checks that an accepted lifetime is a positive whole
// number of seconds.
func FuzzParseLifetime(f *testing.F) {
	for _, s := range []string{"3600s", "3600", "1h", "-1", "1.5s", "9223372036854775807", "1e9s", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseLifetime(s)
		if err != nil {
			return
		}
		if strings.TrimSpace(s) == "" {
			if d != 0 {
				t.Fatalf("empty input gave %v", d)
			}
			return
		}
		if d <= 0 || d.Seconds() != float64(int64(d.Seconds())) {
			t.Fatalf("ParseLifetime(%q) = %v", s, d)
		}
	})
}
