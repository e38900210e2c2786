package gcp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"cloud.google.com/go/auth/credentials/downscope"
	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func TestParseAccessBoundary(t *testing.T) {
	t.Parallel()
	viewer := func(bucket string, cond string, roles ...string) downscope.AccessBoundaryRule {
		r := downscope.AccessBoundaryRule{AvailableResource: "//storage.googleapis.com/projects/_/buckets/" + bucket}
		for _, role := range roles {
			r.AvailablePermissions = append(r.AvailablePermissions, "inRole:"+role)
		}
		if cond != "" {
			r.Condition = &downscope.AvailabilityCondition{Expression: cond}
		}
		return r
	}
	const startsWith = "resource.name.startsWith('projects/_/buckets/b-1/objects/a:b/')"
	tests := []struct {
		name string
		in   string
		want []downscope.AccessBoundaryRule
		err  string
	}{
		{"one line", "bucket=b-1:role=roles/storage.objectViewer", []downscope.AccessBoundaryRule{viewer("b-1", "", "roles/storage.objectViewer")}, ""},
		{"two roles", "bucket=b-1:role=roles/storage.objectViewer:role=roles/storage.legacyBucketReader",
			[]downscope.AccessBoundaryRule{viewer("b-1", "", "roles/storage.objectViewer", "roles/storage.legacyBucketReader")}, ""},
		{"condition with colons", "bucket=b-1:role=roles/storage.objectViewer:condition=" + startsWith,
			[]downscope.AccessBoundaryRule{viewer("b-1", startsWith, "roles/storage.objectViewer")}, ""},
		{"lines comments crlf", "# cache\r\nbucket=b-1:role=roles/storage.objectViewer\r\n\r\n  bucket=my.bucket_2:role=projects/my-project/roles/custom.reader  \r\n",
			[]downscope.AccessBoundaryRule{viewer("b-1", "", "roles/storage.objectViewer"), viewer("my.bucket_2", "", "projects/my-project/roles/custom.reader")}, ""},
		{"json", `{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/b-1","availablePermissions":["inRole:roles/storage.objectViewer"],"availabilityCondition":{"expression":"` + startsWith + `","title":"t"}}]}}`,
			[]downscope.AccessBoundaryRule{{
				AvailableResource:    "//storage.googleapis.com/projects/_/buckets/b-1",
				AvailablePermissions: []string{"inRole:roles/storage.objectViewer"},
				Condition:            &downscope.AvailabilityCondition{Expression: startsWith, Title: "t"},
			}}, ""},
		{"json indented", "\n  {\n \"accessBoundary\": {\"accessBoundaryRules\": [{\"availableResource\": \"//storage.googleapis.com/projects/_/buckets/b-1\", \"availablePermissions\": [\"inRole:roles/storage.objectViewer\"]}]}}\n",
			[]downscope.AccessBoundaryRule{viewer("b-1", "", "roles/storage.objectViewer")}, ""},

		{"empty", "  \n", nil, "is empty"},
		{"only comments", "# nothing\n", nil, "no rules"},
		{"no bucket", "role=roles/storage.objectViewer", nil, "must start with bucket="},
		{"no role", "bucket=b-1", nil, "at least one role"},
		{"bad bucket", "bucket=B!:role=roles/storage.objectViewer", nil, "not a bucket name"},
		{"bucket with dots twice", "bucket=a..b:role=roles/storage.objectViewer", nil, "not a bucket name"},
		{"two buckets", "bucket=b-1:bucket=b-2:role=roles/storage.objectViewer", nil, "more than one bucket"},
		{"bad role", "bucket=b-1:role=storage.objectViewer", nil, "not a role"},
		{"inRole prefix in shorthand", "bucket=b-1:role=inRole:roles/x", nil, "adds inRole: itself"},
		{"unknown key", "bucket=b-1:perm=x", nil, "unknown key"},
		{"empty condition", "bucket=b-1:role=roles/storage.objectViewer:condition= ", nil, "needs an expression"},
		{"too many rules", strings.Repeat("bucket=b-1:role=roles/storage.objectViewer\n", 11), nil, "at most 10"},
		{"too large", strings.Repeat("#", 40<<10), nil, "at most"},
		{"json syntax", `{"accessBoundary":`, nil, "not valid JSON"},
		{"json unknown field", `{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/b","availablePermissions":["inRole:roles/x"],"availabilityConditions":{}}]}}`, nil, "availabilityConditions"},
		{"json bare rules", `{"accessBoundaryRules":[]}`, nil, "accessBoundaryRules"},
		{"json missing boundary", `{}`, nil, `lacks "accessBoundary"`},
		{"json wrong type", `{"accessBoundary":{"accessBoundaryRules":{}}}`, nil, "wrong type"},
		{"json trailing data", `{"accessBoundary":{"accessBoundaryRules":[]}} {}`, nil, "after the JSON object"},
		{"json permission without inRole", `{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/b","availablePermissions":["roles/x"]}]}}`, nil, "inRole:"},
		{"json resource not full name", `{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"b","availablePermissions":["inRole:roles/x"]}]}}`, nil, "full resource name"},
		{"json no resource", `{"accessBoundary":{"accessBoundaryRules":[{"availablePermissions":["inRole:roles/x"]}]}}`, nil, "availableResource is required"},
		{"json no rules", `{"accessBoundary":{"accessBoundaryRules":[]}}`, nil, "no rules"},
		{"json duplicate permission", `{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/b","availablePermissions":["inRole:roles/x","inRole:roles/x"]}]}}`, nil, "twice"},
		{"json control characters", `{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/b","availablePermissions":["inRole:roles/x"],"availabilityCondition":{"expression":"a\u0000"}}]}}`, nil, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAccessBoundary(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, exchange.ErrInvalidInput) {
					t.Fatalf("ParseAccessBoundary() = %v, want an input error containing %q", err, tt.err)
				}
				if !strings.Contains(err.Error(), "access-boundary") {
					t.Errorf("error %v does not name the input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAccessBoundary() = %v", err)
			}
			if diff := cmp.Diff(tt.want, got.Rules); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
}

// The shorthand and the JSON for the same rules give one fingerprint.
func TestAccessBoundaryFingerprintIsCanonical(t *testing.T) {
	t.Parallel()
	short, err := ParseAccessBoundary("bucket=b-1:role=roles/storage.objectViewer:condition=resource.name.startsWith('x') && true")
	if err != nil {
		t.Fatal(err)
	}
	long, err := ParseAccessBoundary(`{
	  "accessBoundary": {
	    "accessBoundaryRules": [{
	      "availablePermissions": ["inRole:roles/storage.objectViewer"],
	      "availableResource": "//storage.googleapis.com/projects/_/buckets/b-1",
	      "availabilityCondition": {"expression": "resource.name.startsWith('x') \u0026\u0026 true"}
	    }]
	  }
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if short.JSON() != long.JSON() || short.SHA256() != long.SHA256() {
		t.Errorf("fingerprints differ:\n%s\n%s", short.JSON(), long.JSON())
	}
	const want = `{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/b-1","availablePermissions":["inRole:roles/storage.objectViewer"],"availabilityCondition":{"expression":"resource.name.startsWith('x') \u0026\u0026 true"}}]}}`
	if short.JSON() != want {
		t.Errorf("JSON() =\n%s\nwant\n%s", short.JSON(), want)
	}
	if short.SHA256() != exchange.SHA256Hex(want) {
		t.Errorf("SHA256() does not fingerprint JSON()")
	}
}

// FuzzParseAccessBoundary checks that the parser never panics, that an
// accepted boundary is within the limits STS checks, and that its JSON
// parses back to the same rules.
func FuzzParseAccessBoundary(f *testing.F) {
	for _, s := range []string{
		"bucket=b-1:role=roles/storage.objectViewer",
		"bucket=b-1:role=roles/storage.objectViewer:condition=resource.name.startsWith('a:b')",
		"# c\nbucket=a.b:role=organizations/1/roles/x:role=roles/y\n",
		`{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//storage.googleapis.com/projects/_/buckets/b","availablePermissions":["inRole:roles/x"],"availabilityCondition":{"expression":"true"}}]}}`,
		`{"accessBoundary":{"accessBoundaryRules":[{}]}}`,
		"bucket=:role=",
		"{",
		"bucket=b-1:role=roles/x:condition=\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseAccessBoundary(s)
		if err != nil {
			if b != nil {
				t.Fatalf("error %v with a result", err)
			}
			if !errors.Is(err, exchange.ErrInvalidInput) {
				t.Fatalf("error %v is not an input error", err)
			}
			return
		}
		if n := len(b.Rules); n < 1 || n > MaxAccessBoundaryRules {
			t.Fatalf("accepted %d rules", n)
		}
		for _, r := range b.Rules {
			if !strings.HasPrefix(r.AvailableResource, "//") || len(r.AvailablePermissions) == 0 {
				t.Fatalf("accepted rule %+v", r)
			}
			for _, p := range r.AvailablePermissions {
				if !strings.HasPrefix(p, "inRole:") {
					t.Fatalf("accepted permission %q", p)
				}
			}
			if c := r.Condition; c != nil && strings.TrimSpace(c.Expression) == "" {
				t.Fatalf("accepted an empty condition")
			}
		}
		again, err := ParseAccessBoundary(b.JSON())
		if err != nil {
			t.Fatalf("JSON() %s does not parse back: %v", b.JSON(), err)
		}
		if diff := cmp.Diff(b.Rules, again.Rules); diff != "" {
			t.Fatalf("round trip changed the rules (-first +again):\n%s", diff)
		}
		if !json.Valid([]byte(b.JSON())) {
			t.Fatalf("JSON() is not valid JSON")
		}
	})
}
