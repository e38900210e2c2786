package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// MaxTokenBytes caps how much a token source reads. OIDC tokens are a few
// kilobytes (GitHub's about 1.5 KiB); 64 KiB leaves room for any issuer's
// claims while refusing to slurp a wrong file or an endless stream.
const MaxTokenBytes = 64 << 10

// TokenFileSetting is the setting that names a token file, in the errors
// of [FileTokenSource]; the CLI renames it to its flag.
const TokenFileSetting = "web-identity-token-file"

// FileTokenSource reads the token from a file on every call, so a file
// that an agent rotates (a Kubernetes projected service-account token)
// always yields the current token. The audience argument is ignored: the
// token's audience is fixed by its issuer and checked by the verifier.
type FileTokenSource struct {
	// Path is the file holding the token, as this process opens it.
	Path string
	// SharedPath is the path other processes open the same file by, when
	// it differs from Path: a container action sees a host file under a
	// mount, while the later steps that read a credential file run on the
	// host. Empty means Path.
	SharedPath string
	// Masker, when set, registers the token (each form
	// [exchange.MaskForms] lists) before it is returned.
	Masker exchange.Masker
}

var (
	_ exchange.TokenSource       = (*FileTokenSource)(nil)
	_ exchange.CredentialSourcer = (*FileTokenSource)(nil)
)

// CredentialSource implements [exchange.CredentialSourcer]: a credential
// file (GCP external_account) can read fresh tokens from the same file for
// as long as whoever rotates it keeps it current. The file is named by
// SharedPath, else Path, made absolute, because the credential file is
// read by other processes from other working directories. The audience is ignored, as in [FileTokenSource.Token].
// Token trims white space around the token; not every consumer of a
// credential file does, so a token file that feeds one is best written
// without a trailing newline.
func (s *FileTokenSource) CredentialSource(_ string) (*exchange.CredentialSource, error) {
	if s.Path == "" {
		return nil, exchange.InputError(TokenFileSetting, "no path given")
	}
	p := s.SharedPath
	if p == "" {
		p = s.Path
	}
	p, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("making the token file path absolute: %w", err)
	}
	return &exchange.CredentialSource{File: p}, nil
}

// Token implements [exchange.TokenSource].
func (s *FileTokenSource) Token(ctx context.Context, _ string) (exchange.Secret, error) {
	if err := ctx.Err(); err != nil {
		return exchange.Secret{}, err
	}
	if s.Path == "" {
		return exchange.Secret{}, exchange.InputError(TokenFileSetting, "no path given")
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return exchange.Secret{}, fmt.Errorf("opening the token file: %w: %w", exchange.ErrTokenUnavailable, err)
	}
	defer f.Close()
	tok, err := readToken(f, "the token file "+s.Path, TokenFileSetting)
	if err != nil {
		return exchange.Secret{}, err
	}
	return maskToken(s.Masker, tok)
}

// ReaderTokenSource reads the token from R (standard input) once, on the
// first call, and returns the same token on later calls: a stream cannot
// be read twice. For the same reason it does not implement
// [exchange.CredentialSourcer]: no other process can read the token again,
// so credential files made from it cannot refresh themselves. The audience argument is ignored, as for
// [FileTokenSource]. A ReaderTokenSource must not be copied after first
// use.
type ReaderTokenSource struct {
	// R holds the token, normally os.Stdin.
	R io.Reader
	// Masker, when set, registers the token before it is returned.
	Masker exchange.Masker

	once sync.Once
	done chan struct{}
	tok  exchange.Secret
	err  error
}

var _ exchange.TokenSource = (*ReaderTokenSource)(nil)

// Token implements [exchange.TokenSource]. It stops waiting when ctx ends,
// because a terminal on standard input may never send end-of-file.
func (s *ReaderTokenSource) Token(ctx context.Context, _ string) (exchange.Secret, error) {
	s.once.Do(func() {
		s.done = make(chan struct{})
		go func() {
			defer close(s.done)
			if s.R == nil {
				s.err = errors.New("token reader is nil")
				return
			}
			var tok string
			if tok, s.err = readToken(s.R, "standard input", "token"); s.err == nil {
				s.tok, s.err = maskToken(s.Masker, tok)
			}
		}()
	})
	select {
	case <-s.done:
		return s.tok, s.err
	case <-ctx.Done():
		return exchange.Secret{}, fmt.Errorf("waiting for the token on standard input: %w", ctx.Err())
	}
}

// readToken reads at most MaxTokenBytes and trims surrounding white space
// and a byte-order mark: a token file written by echo or an editor ends in
// a newline, and a token sent with one fails verification in a confusing
// way. setting names what the user set, for a file too large to be a
// token.
func readToken(r io.Reader, what, setting string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxTokenBytes+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w: %w", what, exchange.ErrTokenUnavailable, err)
	}
	if len(b) > MaxTokenBytes {
		return "", exchange.InputError(setting, "%s is larger than %d KiB; an OIDC token is a few KiB", what, MaxTokenBytes>>10)
	}
	tok := strings.TrimFunc(string(b), func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' })
	if tok == "" {
		return "", fmt.Errorf("%s is empty: %w", what, exchange.ErrTokenUnavailable)
	}
	return tok, nil
}

// maskToken registers every form of tok with m before anyone can print
// it, as the CI platform's own token source does.
func maskToken(m exchange.Masker, tok string) (exchange.Secret, error) {
	s := exchange.NewSecret(tok)
	if m == nil {
		return s, nil
	}
	for _, form := range exchange.MaskForms(s) {
		if err := m.Mask(form); err != nil {
			return exchange.Secret{}, fmt.Errorf("masking the token: %w", err)
		}
	}
	return s, nil
}
