package main

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// getNode reads the node NAME from CLIENT.
func getNode(t *testing.T, client *fake.Clientset, name string) *corev1.Node {
	t.Helper()
	node, err := client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return node
}

// condition is the condition T of NODE, or fails the test.
func condition(t *testing.T, node *corev1.Node, ct corev1.NodeConditionType) corev1.NodeCondition {
	t.Helper()
	for _, c := range node.Status.Conditions {
		if c.Type == ct {
			return c
		}
	}
	t.Fatalf("node %s has no %s condition: %+v", node.Name, ct, node.Status.Conditions)
	return corev1.NodeCondition{}
}

// checkRegistered fails the test unless NODE is as newVirtualNode(…, "vk", "10.251.0.2", 10350, 50) makes it.
func checkRegistered(t *testing.T, node *corev1.Node) {
	t.Helper()
	for k, v := range map[string]string{"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "vk", "type": "virtual-kubelet"} {
		if node.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, node.Labels[k], v)
		}
	}
	n := 0
	for _, taint := range node.Spec.Taints {
		if taint.Key == "virtual-kubelet.io/provider" {
			n++
			if taint.Value != "buildpod" || taint.Effect != corev1.TaintEffectNoSchedule {
				t.Errorf("provider taint = %+v", taint)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d provider taints, want 1: %+v", n, node.Spec.Taints)
	}
	want := map[corev1.ResourceName]string{"cpu": "1000", "memory": "4Ti", "pods": "50", "ephemeral-storage": "10Ti"}
	for name, list := range map[string]corev1.ResourceList{"capacity": node.Status.Capacity, "allocatable": node.Status.Allocatable} {
		for r, v := range want {
			if q, ok := list[r]; !ok || q.Cmp(resource.MustParse(v)) != 0 {
				t.Errorf("%s %s = %v, want %s", name, r, list[r], v)
			}
		}
	}
	if c := condition(t, node, corev1.NodeReady); c.Status != corev1.ConditionTrue {
		t.Errorf("Ready = %s", c.Status)
	}
	for _, ct := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		if c := condition(t, node, ct); c.Status != corev1.ConditionFalse {
			t.Errorf("%s = %s", ct, c.Status)
		}
	}
	if a := node.Status.Addresses; len(a) == 0 || a[0].Type != corev1.NodeInternalIP || a[0].Address != "10.251.0.2" {
		t.Errorf("addresses = %+v, want InternalIP 10.251.0.2 first", a)
	}
	if p := node.Status.DaemonEndpoints.KubeletEndpoint.Port; p != 10350 {
		t.Errorf("kubelet port = %d", p)
	}
	info := node.Status.NodeInfo
	if info.Architecture != "amd64" || info.OperatingSystem != "linux" || !strings.HasPrefix(info.KubeletVersion, "v1.") {
		t.Errorf("node info = %+v", info)
	}
}

func TestRegisterCreatesTheNode(t *testing.T) {
	client := fake.NewClientset()
	n := newVirtualNode(client, "vk", "10.251.0.2", 10350, 50, t.Errorf)
	if err := n.register(context.Background()); err != nil {
		t.Fatal(err)
	}
	node := getNode(t, client, "vk")
	checkRegistered(t, node)
	if n.uid != node.UID {
		t.Errorf("uid = %q, want the node's %q", n.uid, node.UID)
	}
}

func TestRegisterUpdatesAnEarlierRunsNode(t *testing.T) {
	old := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "vk", UID: "old", Labels: map[string]string{"keep": "me"}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{
			{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoExecute},
			{Key: "virtual-kubelet.io/provider", Value: "other", Effect: corev1.TaintEffectNoSchedule},
		}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}}},
	}
	client := fake.NewClientset(old)
	n := newVirtualNode(client, "vk", "10.251.0.2", 10350, 50, t.Errorf)
	for range 2 {
		if err := n.register(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	node := getNode(t, client, "vk")
	checkRegistered(t, node)
	if node.Labels["keep"] != "me" {
		t.Errorf("labels = %v: the earlier label is lost", node.Labels)
	}
	if len(node.Spec.Taints) != 2 || node.Spec.Taints[1].Key != "node.kubernetes.io/unreachable" {
		t.Errorf("taints = %+v: want the provider taint and the earlier one", node.Spec.Taints)
	}
	if n.uid != "old" {
		t.Errorf("uid = %q, want the node's", n.uid)
	}
}

func TestNodeConditionsKeepTheirTransitionTime(t *testing.T) {
	then := time.Now().Add(-time.Hour)
	old := []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(then)},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(then)},
	}
	now := time.Now()
	for _, c := range nodeConditions(old, now) {
		if !c.LastHeartbeatTime.Time.Equal(now) {
			t.Errorf("%s heartbeat = %v, want %v", c.Type, c.LastHeartbeatTime, now)
		}
		want := now
		if c.Type == corev1.NodeReady {
			want = then
		}
		if !c.LastTransitionTime.Time.Equal(want) {
			t.Errorf("%s transition = %v, want %v", c.Type, c.LastTransitionTime, want)
		}
	}
}

func TestKeepReadyRenewsTheLeaseAndTheHeartbeat(t *testing.T) {
	client := fake.NewClientset()
	n := newVirtualNode(client, "vk", "10.251.0.2", 10350, 50, t.Errorf)
	n.leaseEvery, n.statusEvery = 10*time.Millisecond, 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := n.register(ctx); err != nil {
		t.Fatal(err)
	}
	registered := condition(t, getNode(t, client, "vk"), corev1.NodeReady).LastHeartbeatTime
	done := make(chan struct{})
	go func() { n.keepReady(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	leases := client.CoordinationV1().Leases("kube-node-lease")
	var first time.Time
	deadline := time.Now().Add(3 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("the lease and the heartbeat were not renewed")
		}
		time.Sleep(5 * time.Millisecond)
		lease, err := leases.Get(ctx, "vk", metav1.GetOptions{})
		if err != nil || lease.Spec.RenewTime == nil {
			continue
		}
		if first.IsZero() {
			first = lease.Spec.RenewTime.Time
			if h := lease.Spec.HolderIdentity; h == nil || *h != "vk" {
				t.Errorf("holder = %v, want vk", h)
			}
			if d := lease.Spec.LeaseDurationSeconds; d == nil || *d != 40 {
				t.Errorf("duration = %v, want 40", d)
			}
			if o := lease.OwnerReferences; len(o) != 1 || o[0].Kind != "Node" || o[0].Name != "vk" || o[0].UID != n.uid {
				t.Errorf("owner = %+v, want the node", o)
			}
			continue
		}
		heartbeat := condition(t, getNode(t, client, "vk"), corev1.NodeReady).LastHeartbeatTime
		if lease.Spec.RenewTime.Time.After(first) && heartbeat.After(registered.Time) {
			return
		}
	}
}

func TestHeartbeatRegistersADeletedNodeAgain(t *testing.T) {
	client := fake.NewClientset()
	n := newVirtualNode(client, "vk", "10.251.0.2", 10350, 50, t.Errorf)
	ctx := context.Background()
	if err := n.register(ctx); err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().Nodes().Delete(ctx, "vk", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := n.heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	checkRegistered(t, getNode(t, client, "vk"))
}
