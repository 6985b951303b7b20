package httpserver

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// Per-client limits: a client (an IP address) that opens more connections or event
// streams than a person's browser tabs would is refused, so that one client cannot
// take the server's file descriptors or goroutines from the others.
const (
	// DefaultMaxConnsPerClient bounds a client's open connections: browsers open
	// at most 6 per host name, and each open event stream holds one.
	DefaultMaxConnsPerClient = 64
	// DefaultMaxStreamsPerClient bounds a client's open event streams.
	DefaultMaxStreamsPerClient = 16
)

// clientOf is the address a limit counts against: the IP, without the port.
func clientOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// perClient counts what each client holds.
type perClient struct {
	mu    sync.Mutex
	max   int
	count map[string]int
}

func newPerClient(max int) *perClient { return &perClient{max: max, count: map[string]int{}} }

// acquire takes one for client, or reports false when it holds max already.
func (p *perClient) acquire(client string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count[client] >= p.max {
		return false
	}
	p.count[client]++
	return true
}

func (p *perClient) release(client string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count[client]--; p.count[client] <= 0 {
		delete(p.count, client)
	}
}

// limitListener closes, at once, connections from a client that holds max already.
type limitListener struct {
	net.Listener
	conns *perClient
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientOf(c.RemoteAddr().String())
		if !l.conns.acquire(client) {
			c.Close()
			continue
		}
		return &countedConn{Conn: c, release: func() { l.conns.release(client) }}, nil
	}
}

// countedConn gives its client's count back when closed, once.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// ReadFrom and CloseWrite reach the TCP connection underneath: net/http sends files
// with the first (sendfile, not copies through user space) and closes gracefully
// with the second, when the connection has them.
func (c *countedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// tooManyStreams answers a client that holds its share of event streams already.
func tooManyStreams(w http.ResponseWriter, max int) {
	w.Header().Set("Retry-After", "10")
	writeError(w, http.StatusTooManyRequests, "too_many_streams",
		"this client has "+strconv.Itoa(max)+" event streams open already: close some (other tabs of this page) and try again")
}
