package httpclient

import (
	"fmt"
	"net/http"
)

// StatusError is an HTTP answer that was not a success. It carries the
// redacted URL and the status, never the body: an error page may echo what
// was sent.
type StatusError struct {
	URL        string
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// ClassifyTransientStatus returns a copy of c whose transport turns 408,
// 429 and 5xx answers into a [TransientError] (with the server's
// Retry-After) wrapping a [StatusError], and network failures into
// transient errors, so that retries of a library's requests (go-oidc's,
// go-githubactions') are decided by type rather than by its error text.
// Other answers pass through for the library to handle.
func ClassifyTransientStatus(c *http.Client) *http.Client {
	return WrapTransport(c, func(base http.RoundTripper) http.RoundTripper { return statusClassifier{base: base} })
}

type statusClassifier struct{ base http.RoundTripper }

func (s statusClassifier) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	if err != nil {
		if IsNetworkError(err) {
			return nil, MarkTransient(err)
		}
		return nil, err
	}
	if IsTransientStatus(resp.StatusCode) {
		resp.Body.Close()
		return nil, &TransientError{
			Err:        &StatusError{URL: req.URL.Redacted(), StatusCode: resp.StatusCode},
			RetryAfter: RetryAfter(resp.Header),
		}
	}
	return resp, nil
}
