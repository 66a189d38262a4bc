package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/rpc"
)

// security is what New builds from the access flags: the key service, the
// interceptors, the TLS settings of both listeners and the in-process
// listeners of the REST gateway and of billingd's own calls.
type security struct {
	keys     *access.Service
	auth     *rpc.Auth
	creds    credentials.TransportCredentials
	httpTLS  *tls.Config // nil: plain HTTP
	gateway  *inProcessListener
	system   *inProcessListener
	timeouts grpc.UnaryServerInterceptor
}

func newSecurity(ctx context.Context, cfg config.Config, db *database, log *slog.Logger, stderr io.Writer) (*security, error) {
	s := &security{
		keys:     access.New(db.store.Access(), nil),
		gateway:  newInProcessListener(false),
		system:   newInProcessListener(true),
		timeouts: rpc.TimeoutUnary(cfg.RPCTimeout),
	}
	s.auth = rpc.NewAuth(rpc.AuthConfig{
		Enabled: cfg.Auth, Keys: s.keys, RatePerSecond: cfg.RateLimit, Burst: cfg.RateBurst, Log: log,
	})
	grpcTLS, httpTLS, err := loadTLS(cfg)
	if err != nil {
		return nil, err
	}
	s.httpTLS = httpTLS
	s.creds = serverCreds{tls: nil}
	if grpcTLS != nil {
		s.creds = serverCreds{tls: credentials.NewTLS(grpcTLS)}
	}
	if !cfg.Auth {
		log.Warn("--auth=off: every caller is admin; use only on a trusted machine")
		return s, nil
	}
	return s, bootstrap(ctx, cfg, s.keys, log, stderr)
}

// bootstrap makes sure an admin can get in: the --bootstrap-admin-key
// secret becomes an admin key, or, when no usable admin key exists, a new
// one is made and its secret printed once to stderr.
func bootstrap(ctx context.Context, cfg config.Config, keys *access.Service, log *slog.Logger, stderr io.Writer) error {
	if cfg.BootstrapAdminKey != "" {
		k, created, err := keys.EnsureKey(ctx, cfg.BootstrapAdminKey)
		if err != nil {
			return fmt.Errorf("--bootstrap-admin-key: %w", err)
		}
		if !k.RevokeTime.IsZero() {
			log.Warn("the --bootstrap-admin-key was revoked and stays revoked; give another secret to make a new admin key", "api_key_id", k.ID)
		} else {
			log.Info("bootstrap admin key ready", "api_key_id", k.ID, "created", created)
		}
		return nil
	}
	k, secret, err := keys.EnsureAdmin(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap admin key: %w", err)
	}
	if secret == "" {
		return nil
	}
	fmt.Fprintf(stderr, "\n"+
		"==================== BILLINGD BOOTSTRAP ADMIN KEY (shown once) ====================\n"+
		"No admin API key existed, so billingd made one (id %s). Store it now;\n"+
		"only its hash is kept. Send it as  authorization: Bearer <key>\n\n"+
		"    %s\n\n"+
		"Create named keys with it (POST /v1/apiKeys) and revoke this one.\n"+
		"===================================================================================\n\n", k.ID, secret)
	log.Warn("created a bootstrap admin key; its secret was printed once to stderr", "api_key_id", k.ID)
	return nil
}

// loadTLS returns the TLS settings of the gRPC listener (with client
// certificates when --client-ca is set) and of the REST listener (without:
// client-certificate auth is for collectors, which speak gRPC), or nil
// when --tls-cert is not set.
func loadTLS(cfg config.Config) (grpcTLS, httpTLS *tls.Config, err error) {
	if cfg.TLSCert == "" {
		return nil, nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	base := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	grpcTLS, httpTLS = base.Clone(), base.Clone()
	if cfg.ClientCA != "" {
		pem, err := os.ReadFile(cfg.ClientCA)
		if err != nil {
			return nil, nil, fmt.Errorf("--client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("--client-ca %s: no PEM certificate", cfg.ClientCA)
		}
		// A certificate is optional (keys still work) but, when given, must
		// chain to the CA or the handshake fails.
		grpcTLS.ClientCAs, grpcTLS.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return grpcTLS, httpTLS, nil
}

// serverCreds secures the gRPC server's network connections with TLS (or
// none without --tls-cert) and lets its in-process connections through
// without a handshake: they never leave the process, and marking them
// lets the interceptors tell billingd's own calls from the network's.
type serverCreds struct {
	tls credentials.TransportCredentials // nil: plaintext
}

func (c serverCreds) network() credentials.TransportCredentials {
	if c.tls != nil {
		return c.tls
	}
	return insecure.NewCredentials()
}

func (c serverCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if ip, ok := conn.(inProcessConn); ok {
		return ip.Conn, rpc.InProcessAuthInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}, System: ip.system}, nil
	}
	return c.network().ServerHandshake(conn)
}

func (c serverCreds) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("serverCreds: server side only")
}

func (c serverCreds) Info() credentials.ProtocolInfo { return c.network().Info() }

func (c serverCreds) Clone() credentials.TransportCredentials { return serverCreds{tls: c.tls} }

//nolint:staticcheck // part of the interface, deprecated upstream
func (c serverCreds) OverrideServerName(string) error { return nil }

// inProcessListener is an in-memory listener of the gRPC server; only code
// in this process can dial it.
type inProcessListener struct {
	*bufconn.Listener
	system bool
}

// inProcessConn marks a connection accepted by an inProcessListener.
type inProcessConn struct {
	net.Conn
	system bool
}

const inProcessBufferBytes = 1 << 20

func newInProcessListener(system bool) *inProcessListener {
	return &inProcessListener{Listener: bufconn.Listen(inProcessBufferBytes), system: system}
}

func (l *inProcessListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return inProcessConn{Conn: c, system: l.system}, nil
}

// dial returns a client connection over the listener.
func (l *inProcessListener) dial() (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///in-process",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
	)
}
