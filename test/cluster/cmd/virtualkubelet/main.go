// Command virtualkubelet is a node that plays each pod's life without containers, for the benchmarks
// that start hundreds of build Jobs at once against the real API server, scheduler and Job controller.
//
//	virtualkubelet --kubeconfig admin.kubeconfig --name virtual-node --listen 10.251.0.2:10350 \
//	  [--cert kubelet.crt --key kubelet.key] [--lines 3] [--run 1s] [--pods 1100] [--verbose]
//
// It registers the Node NAME beside the real one (node.go), tainted
// virtual-kubelet.io/provider=buildpod:NoSchedule so that only the pods that tolerate it land there, and
// keeps it Ready as a kubelet does: it renews its Lease every 10 s and the Ready condition's heartbeat
// every 20 s. Each pod the scheduler binds to it (pods.go) goes Running a moment later, its init
// containers completed; --run later every container has exited 0, the pod's containers with the
// termination message of a build that pushed, {"digest":"sha256:…"}, and the pod has Succeeded
// (status.go). A pod that restarts Always runs until deleted; a pod being deleted is deleted at once.
// The writes go through pods/status, retried on conflict, at most 64 at a time (writes.go).
//
// It serves the kubelet's container log endpoint over HTTPS on --listen (logs.go), which the API server
// reaches at the node's InternalIP and kubelet port: each container writes --lines lines as it starts,
// and a followed log ends when the container does. Without --cert and --key it serves a self-signed
// certificate for the --listen IP.
//
// It prints "virtual kubelet NAME ready on ADDRESS" once the node is registered, the pods already bound
// to it are listed and the log server listens; with --verbose, one line per pod state change.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// options are the command's flags.
type options struct {
	kubeconfig, name, listen string
	certFile, keyFile        string
	lines, pods              int
	run                      time.Duration
	verbose                  bool
}

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "an admin kubeconfig")
	flag.StringVar(&o.name, "name", "virtual-node", "the node's name")
	flag.StringVar(&o.listen, "listen", "", "IP:port of the log server; the IP is the node's InternalIP")
	flag.StringVar(&o.certFile, "cert", "", "the log server's certificate (PEM); self-signed if absent")
	flag.StringVar(&o.keyFile, "key", "", "its key (PEM)")
	flag.IntVar(&o.lines, "lines", 3, "log lines each container writes")
	flag.DurationVar(&o.run, "run", time.Second, "how long each container runs")
	flag.IntVar(&o.pods, "pods", 1100, "the node's capacity in pods")
	flag.BoolVar(&o.verbose, "verbose", false, "print one line per pod state change")
	flag.Parse()
	if o.kubeconfig == "" || o.listen == "" {
		fmt.Fprintln(os.Stderr, "virtualkubelet: --kubeconfig and --listen are required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "virtualkubelet:", err)
		os.Exit(1)
	}
}

// run registers the node, plays its pods and serves their logs until CTX ends.
func run(ctx context.Context, o options) error {
	ip, err := nodeIP(o.listen)
	if err != nil {
		return err
	}
	if o.lines < 0 || o.run < 0 || o.pods < 1 {
		return errors.New("--lines and --run must not be negative, --pods must be positive")
	}
	config, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("--kubeconfig: %v", err)
	}
	// A thousand pods bound at once make two thousand status writes: client-go's default of 5 a second
	// would make the benchmark measure this node.
	config.QPS, config.Burst = 500, 1000
	config.ContentType = "application/vnd.kubernetes.protobuf"
	config.UserAgent = "virtualkubelet/" + o.name
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	tlsConfig, err := serverTLS(o.certFile, o.keyFile, ip)
	if err != nil {
		return fmt.Errorf("--cert/--key: %v", err)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	defer ln.Close()

	errorf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "virtualkubelet: "+format+"\n", args...) }
	logf := func(string, ...any) {}
	if o.verbose {
		logf = func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	}
	node := newVirtualNode(client, o.name, ip, int32(ln.Addr().(*net.TCPAddr).Port), o.pods, errorf)
	if err := node.register(ctx); err != nil {
		return fmt.Errorf("registering node %s: %w", o.name, err)
	}
	go node.keepReady(ctx)
	player := newPlayer(client, o.name, ip, o.run, logf, errorf)
	if err := player.start(ctx); err != nil {
		return err
	}
	server := &http.Server{
		Handler:           (&logServer{containers: player, lines: o.lines}).handler(),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- server.ServeTLS(ln, "", "") }()
	fmt.Printf("virtual kubelet %s ready on %s\n", o.name, ln.Addr())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		server.Close()
		return nil
	}
}

// nodeIP is the IP of LISTEN (IP:port), which the API server is to reach the node at.
func nodeIP(listen string) (string, error) {
	host, _, err := net.SplitHostPort(listen)
	ip := net.ParseIP(host)
	if err != nil || ip == nil || ip.IsUnspecified() {
		return "", fmt.Errorf("--listen %q: give the IP the API server reaches this node at, and a port", listen)
	}
	return ip.String(), nil
}
