package upstream

import (
	"net/url"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// QueryRule says whether an endpoint URL may carry a query.
type QueryRule int

const (
	// NoQuery refuses a query: base URLs to which a provider appends the
	// API path, and issuers (RFC 8414 §2).
	NoQuery QueryRule = iota
	// QueryAllowed keeps a query, which a token endpoint may have (RFC
	// 6749 §3.2).
	QueryAllowed
)

// ParseEndpoint checks the URL a user configured for a service and returns
// it parsed. It must be https, or plain http on a loopback host
// (127.0.0.1, ::1, localhost, a name under .localhost: see
// [httpclient.IsLoopback]), which only tests and local demos use; it
// must have a host and no user information, since credentials in a URL end
// up in logs; it must have no fragment, which is never sent; and, unless
// query allows one, no query. Errors name input, the setting the user
// gave, through [exchange.InputError].
func ParseEndpoint(input, s string, query QueryRule) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "@") {
			// It may hold a password; the user knows what they typed.
			return nil, exchange.InputError(input, "is not a URL")
		}
		return nil, exchange.InputError(input, "%q is not a URL", exchange.Sanitize(s))
	}
	if err := httpclient.CheckURL(u); err != nil {
		return nil, exchange.InputError(input, "%v", err)
	}
	// "#" alone leaves Fragment empty, and is no more meaningful.
	if u.Fragment != "" || strings.Contains(s, "#") {
		return nil, exchange.InputError(input, "must not have a fragment")
	}
	if query == NoQuery && (u.RawQuery != "" || u.ForceQuery) {
		return nil, exchange.InputError(input, "must not have a query")
	}
	return u, nil
}
