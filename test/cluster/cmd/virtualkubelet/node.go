package main

import (
	"context"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// providerTaint keeps every pod off the node but those that tolerate it: the benchmark's builds.
var providerTaint = corev1.Taint{Key: "virtual-kubelet.io/provider", Value: "buildpod", Effect: corev1.TaintEffectNoSchedule}

// leaseDuration is how long a renewal holds the node's Lease, as the kubelet's default.
const leaseDuration = 40

// virtualNode registers the Node and keeps it Ready.
type virtualNode struct {
	client kubernetes.Interface
	name   string
	ip     string // its InternalIP: the log server's host
	port   int32  // the log server's port
	pods   int    // capacity in pods

	leaseEvery  time.Duration // between renewals of the Lease
	statusEvery time.Duration // between heartbeats of the Ready condition
	errorf      func(format string, args ...any)

	uid types.UID // the Node's, owner of the Lease
}

// newVirtualNode describes the node NAME, reached at IP:PORT, with the kubelet's heartbeat periods.
func newVirtualNode(client kubernetes.Interface, name, ip string, port int32, pods int, errorf func(string, ...any)) *virtualNode {
	return &virtualNode{client: client, name: name, ip: ip, port: port, pods: pods,
		leaseEvery: 10 * time.Second, statusEvery: 20 * time.Second, errorf: errorf}
}

// register creates the Node, or brings one left by an earlier run up to date: its labels and taint are
// added to what it has, and the status is ours.
func (n *virtualNode) register(ctx context.Context) error {
	nodes := n.client.CoreV1().Nodes()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: map[string]string{}}}
	n.applyMeta(node)
	n.applyStatus(&node.Status, time.Now())
	created, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if err == nil {
		n.uid = created.UID
		return nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, n.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.applyMeta(node)
		if node, err = nodes.Update(ctx, node, metav1.UpdateOptions{}); err != nil {
			return err
		}
		n.applyStatus(&node.Status, time.Now())
		if node, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			return err
		}
		n.uid = node.UID
		return nil
	})
}

// applyMeta sets the node's labels and adds the provider taint, leaving other labels and taints be.
func (n *virtualNode) applyMeta(node *corev1.Node) {
	if node.Labels == nil {
		node.Labels = map[string]string{}
	}
	node.Labels[corev1.LabelOSStable] = "linux"
	node.Labels[corev1.LabelArchStable] = "amd64"
	node.Labels[corev1.LabelHostname] = n.name
	node.Labels["type"] = "virtual-kubelet"
	taints := []corev1.Taint{providerTaint}
	for _, t := range node.Spec.Taints {
		if t.Key != providerTaint.Key || t.Effect != providerTaint.Effect {
			taints = append(taints, t)
		}
	}
	node.Spec.Taints = taints
}

// applyStatus sets the parts of the node's status a kubelet owns: resources, conditions (heartbeat NOW),
// addresses, the log server's port and the node's description.
func (n *virtualNode) applyStatus(st *corev1.NodeStatus, now time.Time) {
	resources := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("1000"),
		corev1.ResourceMemory:           resource.MustParse("4Ti"),
		corev1.ResourcePods:             resource.MustParse(strconv.Itoa(n.pods)),
		corev1.ResourceEphemeralStorage: resource.MustParse("10Ti"),
	}
	st.Capacity = resources
	st.Allocatable = resources.DeepCopy()
	st.Conditions = nodeConditions(st.Conditions, now)
	st.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: n.ip}, {Type: corev1.NodeHostName, Address: n.name}}
	st.DaemonEndpoints.KubeletEndpoint.Port = n.port
	st.NodeInfo = corev1.NodeSystemInfo{
		Architecture:            "amd64",
		OperatingSystem:         "linux",
		OSImage:                 "virtual",
		KernelVersion:           "virtual",
		ContainerRuntimeVersion: "virtual://1.0.0",
		KubeletVersion:          kubeletVersion(),
	}
}

// nodeConditions is the kubelet's four conditions for a healthy node, heartbeat NOW; a condition whose
// status is unchanged from OLD keeps its transition time.
func nodeConditions(old []corev1.NodeCondition, now time.Time) []corev1.NodeCondition {
	want := []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
	}
	t := metav1.NewTime(now)
	for i := range want {
		want[i].LastHeartbeatTime = t
		want[i].LastTransitionTime = t
		for _, o := range old {
			if o.Type == want[i].Type && o.Status == want[i].Status && !o.LastTransitionTime.IsZero() {
				want[i].LastTransitionTime = o.LastTransitionTime
			}
		}
	}
	return want
}

// keepReady renews the Lease and the Ready heartbeat until CTX ends. A failure is reported and retried
// at the next tick.
func (n *virtualNode) keepReady(ctx context.Context) {
	lease := time.NewTicker(n.leaseEvery)
	defer lease.Stop()
	status := time.NewTicker(n.statusEvery)
	defer status.Stop()
	n.report(ctx, "renewing the lease", n.renewLease(ctx))
	for {
		select {
		case <-ctx.Done():
			return
		case <-lease.C:
			n.report(ctx, "renewing the lease", n.renewLease(ctx))
		case <-status.C:
			n.report(ctx, "updating the node status", n.heartbeat(ctx))
		}
	}
}

// report passes ERR, if any and not caused by the end of CTX, to errorf.
func (n *virtualNode) report(ctx context.Context, what string, err error) {
	if err != nil && ctx.Err() == nil {
		n.errorf("%s: %v", what, err)
	}
}

// renewLease creates the node's Lease in kube-node-lease, owned by the Node, or renews it.
func (n *virtualNode) renewLease(ctx context.Context) error {
	leases := n.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	spec := coordinationv1.LeaseSpec{HolderIdentity: &n.name, LeaseDurationSeconds: ptr(int32(leaseDuration)), RenewTime: &now}
	lease, err := leases.Get(ctx, n.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.name, Namespace: corev1.NamespaceNodeLease, OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "v1", Kind: "Node", Name: n.name, UID: n.uid},
			}},
			Spec: spec,
		}
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec = spec
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// heartbeat refreshes the node's status, the Ready condition's heartbeat with it; a node deleted
// meanwhile is registered again.
func (n *virtualNode) heartbeat(ctx context.Context) error {
	nodes := n.client.CoreV1().Nodes()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, n.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return n.register(ctx)
		}
		if err != nil {
			return err
		}
		n.applyStatus(&node.Status, time.Now())
		_, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
}

// kubeletVersion is the Kubernetes release of the client-go this binary is built with (client-go v0.X.Y
// comes with Kubernetes v1.X.Y), so that the node reports the cluster's own version.
func kubeletVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path != "k8s.io/client-go" {
				continue
			}
			if m.Replace != nil {
				m = m.Replace
			}
			if v, ok := strings.CutPrefix(m.Version, "v0."); ok {
				return "v1." + v
			}
		}
	}
	return "v1.0.0"
}

// ptr returns a pointer to V.
func ptr[T any](v T) *T { return &v }
