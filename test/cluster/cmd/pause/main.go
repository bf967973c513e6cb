// Command pause is the test cluster's pod sandbox image: it holds a pod's namespaces open until it is told to
// stop, and reaps the orphans that are handed to it when a pod shares its process namespace. The image is
// assembled from this binary alone (test/cluster/infra/images.ts), as the kubelet's own pause image is.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
