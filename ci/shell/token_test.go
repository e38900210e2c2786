package shell

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
)

const fakeJWT = "FAKE.eyJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSJ9.FAKE-SIGNATURE"

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFileTokenSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		content     string
		want        string
		wantErr     error
		wantErrText string
	}{
		{name: "bare", content: fakeJWT, want: fakeJWT},
		{name: "trailing newline", content: fakeJWT + "\n", want: fakeJWT},
		{name: "crlf and spaces", content: "  \t" + fakeJWT + "\r\n\r\n", want: fakeJWT},
		{name: "byte-order mark", content: "\uFEFF" + fakeJWT + "\n", want: fakeJWT},
		{name: "exactly the limit", content: strings.Repeat("A", MaxTokenBytes), want: strings.Repeat("A", MaxTokenBytes)},
		{name: "empty", content: "", wantErr: exchange.ErrTokenUnavailable, wantErrText: "is empty"},
		{name: "only white space", content: " \n\t\r\n", wantErr: exchange.ErrTokenUnavailable, wantErrText: "is empty"},
		{name: "oversized", content: strings.Repeat("A", MaxTokenBytes+1), wantErr: exchange.ErrInvalidInput, wantErrText: "larger than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &exchangetest.RecordingMasker{}
			src := &FileTokenSource{Path: writeFile(t, tt.content), Masker: m}
			got, err := src.Token(context.Background(), "ignored-audience")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantErrText) {
					t.Fatalf("Token() error = %v, want %v mentioning %q", err, tt.wantErr, tt.wantErrText)
				}
				if len(m.Values) != 0 {
					t.Errorf("masked %d values on failure", len(m.Values))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Reveal() != tt.want {
				t.Errorf("Token() = %.40q…, want %.40q…", got.Reveal(), tt.want)
			}
			if diff := cmp.Diff([]string{tt.want}, m.Values); diff != "" {
				t.Errorf("masked values mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFileTokenSourceMasksEveryForm: the token is registered in every
// form the program may print, as the CI platform's own source does.
func TestFileTokenSourceMasksEveryForm(t *testing.T) {
	t.Parallel()
	const tok = "FAKE.<claims>&more.FAKE-SIGNATURE"
	m := &exchangetest.RecordingMasker{}
	if _, err := (&FileTokenSource{Path: writeFile(t, tok), Masker: m}).Token(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	want := exchange.MaskForms(exchange.NewSecret(tok))
	if len(want) < 2 {
		t.Fatalf("the test token has %d forms; it should have an escaped one too", len(want))
	}
	if diff := cmp.Diff(want, m.Values); diff != "" {
		t.Errorf("masked values mismatch (-want +got):\n%s", diff)
	}
}

func TestFileTokenSourceErrors(t *testing.T) {
	t.Parallel()
	missing := &FileTokenSource{Path: filepath.Join(t.TempDir(), "nope")}
	_, err := missing.Token(context.Background(), "")
	if !errors.Is(err, exchange.ErrTokenUnavailable) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	_, err = (&FileTokenSource{}).Token(context.Background(), "")
	if !errors.Is(err, exchange.ErrInvalidInput) {
		t.Errorf("no path: %v", err)
	}
	_, err = (&FileTokenSource{Path: t.TempDir()}).Token(context.Background(), "")
	if !errors.Is(err, exchange.ErrTokenUnavailable) {
		t.Errorf("directory: %v", err)
	}
	errMask := errors.New("mask failed")
	_, err = (&FileTokenSource{Path: writeFile(t, fakeJWT), Masker: failingMasker{errMask}}).Token(context.Background(), "")
	if !errors.Is(err, errMask) {
		t.Errorf("masker failure: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&FileTokenSource{Path: writeFile(t, fakeJWT)}).Token(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestFileTokenSourceRotation re-reads the file, as a rotated projected
// token requires.
func TestFileTokenSourceRotation(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "FAKE-TOKEN-1\n")
	src := &FileTokenSource{Path: p}
	first, err := src.Token(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("FAKE-TOKEN-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	second, err := src.Token(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if first.Reveal() != "FAKE-TOKEN-1" || second.Reveal() != "FAKE-TOKEN-2" {
		t.Errorf("tokens %q, %q", first.Reveal(), second.Reveal())
	}
}

type failingMasker struct{ err error }

func (m failingMasker) Mask(string) error { return m.err }

func TestReaderTokenSource(t *testing.T) {
	t.Parallel()
	m := &exchangetest.RecordingMasker{}
	src := &ReaderTokenSource{R: strings.NewReader(fakeJWT + "\n"), Masker: m}
	for i := range 2 {
		got, err := src.Token(context.Background(), "aud")
		if err != nil || got.Reveal() != fakeJWT {
			t.Fatalf("call %d: %q, %v", i, got.Reveal(), err)
		}
	}
	if diff := cmp.Diff([]string{fakeJWT}, m.Values); diff != "" {
		t.Errorf("masked values mismatch (-want +got):\n%s", diff)
	}
}

func TestReaderTokenSourceErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		r       io.Reader
		wantErr error
	}{
		{"empty", strings.NewReader("\n"), exchange.ErrTokenUnavailable},
		{"oversized", strings.NewReader(strings.Repeat("A", MaxTokenBytes+10)), exchange.ErrInvalidInput},
		{"read error", io.MultiReader(strings.NewReader("FAKE"), errReader{}), exchange.ErrTokenUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := (&ReaderTokenSource{R: tt.r}).Token(context.Background(), "")
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Token() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := (&ReaderTokenSource{}).Token(context.Background(), ""); err == nil {
		t.Error("nil reader accepted")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("device gone") }

// TestReaderTokenSourceCancel: a terminal on stdin never sends EOF; the
// context must still end the wait.
func TestReaderTokenSourceCancel(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := (&ReaderTokenSource{R: pr}).Token(ctx, "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Token() error = %v, want deadline exceeded", err)
	}
}

func TestFileTokenSourceCredentialSource(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	abs := writeFile(t, fakeJWT)
	for in, want := range map[string]string{
		abs:                       abs,
		"run/token":               filepath.Join(wd, "run", "token"),
		"./run/../token-file.jwt": filepath.Join(wd, "token-file.jwt"),
	} {
		got, err := (&FileTokenSource{Path: in}).CredentialSource("ignored-audience")
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if diff := cmp.Diff(&exchange.CredentialSource{File: want}, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", in, diff)
		}
	}
	// A container action opens the file by its container path; later
	// steps on the host read it by the host path.
	got, err := (&FileTokenSource{Path: "/github/runner_temp/token", SharedPath: "/home/runner/work/_temp/token"}).CredentialSource("aud")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&exchange.CredentialSource{File: "/home/runner/work/_temp/token"}, got); diff != "" {
		t.Errorf("SharedPath (-want +got):\n%s", diff)
	}
	if _, err := (&FileTokenSource{}).CredentialSource("aud"); !errors.Is(err, exchange.ErrInvalidInput) {
		t.Errorf("no path: %v", err)
	}
	// Standard input cannot be read twice, so it cannot describe itself.
	var src exchange.TokenSource = &ReaderTokenSource{}
	if _, ok := src.(exchange.CredentialSourcer); ok {
		t.Error("ReaderTokenSource claims to be a CredentialSourcer")
	}
}
