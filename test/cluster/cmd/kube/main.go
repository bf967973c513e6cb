// Command kube is the test cluster's Kubernetes: etcd and the upstream control plane and kubelet, built from
// their own Go modules at one pinned release (go.mod) and run as subcommands of one program, the shape the
// old hyperkube had, so the packages they share are compiled once.
//
//	kube etcd ...                     go.etcd.io/etcd/server/v3/etcdmain, etcd's own flags
//	kube kube-apiserver ...           k8s.io/kubernetes/cmd/kube-apiserver
//	kube kube-controller-manager ...  k8s.io/kubernetes/cmd/kube-controller-manager
//	kube kube-scheduler ...           k8s.io/kubernetes/cmd/kube-scheduler
//	kube kubelet ...                  k8s.io/kubernetes/cmd/kubelet
//	kube kubectl ...                  k8s.io/kubectl, the client of the same release
//
// A link named after a component runs it (.cluster/bin/kubectl -> kube), as hyperkube's links did.
//
// Nothing here changes what the components do: each subcommand is the component's own cobra command, with
// the flags its documentation gives. test/cluster/kube starts them with the test cluster's settings.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	_ "time/tzdata" // CronJob time zones, as kube-apiserver's and kube-controller-manager's mains import it

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/component-base/version"
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"

	_ "k8s.io/client-go/plugin/pkg/client/auth" // kubectl's credential plugins
)

var components = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kubelet":                 func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
}

func main() {
	// kubectl reads os.Args itself (plugins, verbosity), so every component sees its own name as argv[0].
	if _, ok := components[filepath.Base(os.Args[0])]; !ok && filepath.Base(os.Args[0]) != "kubectl" {
		if len(os.Args) < 2 {
			fmt.Fprintln(os.Stderr, "usage: kube etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kubectl|version [flags]")
			os.Exit(2)
		}
		os.Args = os.Args[1:]
	}
	name := filepath.Base(os.Args[0])
	switch name {
	case "etcd":
		etcdmain.Main(os.Args)
		return
	case "version":
		fmt.Println(version.Get().GitVersion)
		return
	case "kubectl":
		logs.GlogSetter(kubectl.GetLogVerbosity(os.Args)) // nolint:errcheck
		if err := cli.RunNoErrOutput(kubectl.NewDefaultKubectlCommand()); err != nil {
			kubectlutil.CheckErr(err)
		}
		return
	}
	newCommand, ok := components[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "kube: unknown component %q\n", name)
		os.Exit(2)
	}
	command := newCommand()
	command.SetArgs(os.Args[1:])
	os.Exit(cli.Run(command))
}
