package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// recorder keeps the pod statuses written and the deletions asked of a fake clientset, and can fail the
// first status write with a conflict.
type recorder struct {
	mu        sync.Mutex
	statuses  []*corev1.Pod // written, in order
	deletes   []k8stesting.DeleteActionImpl
	conflicts int // status writes still to fail
	gets      int // pods read from the API, not the informer
}

func (r *recorder) watch(client *fake.Clientset) {
	client.PrependReactor("update", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "status" {
			return false, nil, nil
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.conflicts > 0 {
			r.conflicts--
			return true, nil, apierrors.NewConflict(corev1.Resource("pods"), "p", nil)
		}
		r.statuses = append(r.statuses, a.(k8stesting.UpdateAction).GetObject().(*corev1.Pod).DeepCopy())
		return false, nil, nil
	})
	client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.gets++
		return false, nil, nil
	})
	client.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.deletes = append(r.deletes, a.(k8stesting.DeleteActionImpl))
		return false, nil, nil
	})
}

// written is a copy of the statuses written so far.
func (r *recorder) written() []*corev1.Pod {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*corev1.Pod(nil), r.statuses...)
}

// startPlayer plays the pods of node "vk" on CLIENT, each running RUN, until the test ends.
func startPlayer(t *testing.T, client *fake.Clientset, run time.Duration) *player {
	t.Helper()
	p := newPlayer(client, "vk", "10.251.0.2", run, t.Logf, t.Errorf)
	p.delay = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := p.start(ctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// buildPod is a build's pod NAME bound to NODE: a source init container, a sidecar, the build container.
func buildPod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{
			NodeName:      node,
			RestartPolicy: corev1.RestartPolicyNever,
			InitContainers: []corev1.Container{
				{Name: "source", Image: "git"},
				{Name: "proxy", Image: "proxy", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)},
			},
			Containers: []corev1.Container{{Name: "build", Image: "buildah"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}},
	}
}

// waitFor polls COND for up to 3 s, and fails the test with WHAT if it never holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting: %s", what)
}

// phase is the phase of the pod ns/NAME in CLIENT, or "" if it is gone. It reads the fake's store, not
// through the clientset, whose reads a recorder counts.
func phase(client *fake.Clientset, name string) corev1.PodPhase {
	obj, err := client.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), "ns", name)
	if err != nil {
		return ""
	}
	return obj.(*corev1.Pod).Status.Phase
}

// podCondition is the status of POD's condition T.
func podCondition(pod *corev1.Pod, ct corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range pod.Status.Conditions {
		if c.Type == ct {
			return c.Status
		}
	}
	return ""
}

func TestAPodRunsThenSucceeds(t *testing.T) {
	client := fake.NewClientset(buildPod("p", "vk"), buildPod("elsewhere", "other"))
	rec := &recorder{conflicts: 1}
	rec.watch(client)
	startPlayer(t, client, 200*time.Millisecond)
	waitFor(t, "the pod to succeed", func() bool { return phase(client, "p") == corev1.PodSucceeded })

	rec.mu.Lock()
	if rec.gets != 1 {
		t.Errorf("the pod was read %d times from the API, want once: after the conflict", rec.gets)
	}
	rec.mu.Unlock()
	statuses := rec.written()
	if len(statuses) != 2 {
		t.Fatalf("%d status writes, want 2 (Running, Succeeded)", len(statuses))
	}
	running, succeeded := statuses[0], statuses[1]
	if running.Name != "p" || succeeded.Name != "p" {
		t.Fatalf("statuses written for %s and %s, want p alone", running.Name, succeeded.Name)
	}
	st := running.Status
	if st.Phase != corev1.PodRunning {
		t.Errorf("first phase %s, want Running", st.Phase)
	}
	for _, ct := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		if s := podCondition(running, ct); s != corev1.ConditionTrue {
			t.Errorf("running: %s = %q, want True", ct, s)
		}
	}
	if ip := net.ParseIP(st.PodIP); ip == nil || !ip.IsPrivate() || len(st.PodIPs) != 1 || st.PodIPs[0].IP != st.PodIP {
		t.Errorf("pod IP %q, IPs %v: want one private address", st.PodIP, st.PodIPs)
	}
	if st.HostIP != "10.251.0.2" || st.StartTime == nil {
		t.Errorf("host IP %q, start time %v", st.HostIP, st.StartTime)
	}
	if s := st.InitContainerStatuses; len(s) != 2 || s[0].Name != "source" || s[0].State.Terminated == nil ||
		s[0].State.Terminated.ExitCode != 0 || s[0].State.Terminated.Reason != "Completed" || s[0].State.Terminated.FinishedAt.IsZero() ||
		s[1].Name != "proxy" || s[1].State.Running == nil {
		t.Errorf("running: init container statuses %+v: want source completed, proxy running", s)
	}
	if s := st.ContainerStatuses; len(s) != 1 || s[0].Name != "build" || s[0].State.Running == nil || !s[0].Ready {
		t.Errorf("running: container statuses %+v: want build running", s)
	}

	st = succeeded.Status
	if podCondition(succeeded, corev1.PodReady) != corev1.ConditionFalse {
		t.Errorf("succeeded: Ready = %q, want False", podCondition(succeeded, corev1.PodReady))
	}
	sum := sha256.Sum256([]byte("ns/p"))
	want := `{"digest":"sha256:` + hex.EncodeToString(sum[:]) + `"}`
	if s := st.ContainerStatuses; len(s) != 1 || s[0].State.Terminated == nil || s[0].State.Terminated.ExitCode != 0 ||
		s[0].State.Terminated.Reason != "Completed" || s[0].State.Terminated.Message != want {
		t.Errorf("succeeded: container statuses %+v: want build terminated with %s", s, want)
	}
	if s := st.InitContainerStatuses; len(s) != 2 || s[1].State.Terminated == nil || s[1].State.Terminated.ExitCode != 0 {
		t.Errorf("succeeded: init container statuses %+v: want the sidecar terminated", s)
	}
	if st.PodIP != running.Status.PodIP {
		t.Errorf("the pod IP changed from %s to %s", running.Status.PodIP, st.PodIP)
	}
	if ran := st.ContainerStatuses[0].State.Terminated.FinishedAt.Sub(st.StartTime.Time); ran != 200*time.Millisecond {
		t.Errorf("the build ran %v, want 200ms", ran)
	}
	if phase(client, "elsewhere") != corev1.PodPending {
		t.Errorf("the pod of another node was played")
	}
}

func TestADeletedPodIsDeletedAtOnceAndForgotten(t *testing.T) {
	client := fake.NewClientset(buildPod("p", "vk"))
	rec := &recorder{}
	rec.watch(client)
	p := startPlayer(t, client, time.Hour)
	waitFor(t, "the pod to run", func() bool { return phase(client, "p") == corev1.PodRunning })
	if _, ok := p.container("ns", "p", "build"); !ok {
		t.Fatal("the running pod's container is unknown")
	}

	pod, err := client.CoreV1().Pods("ns").Get(context.Background(), "p", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.DeletionTimestamp = ptr(metav1.Now())
	if _, err := client.CoreV1().Pods("ns").Update(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod to be deleted", func() bool { return phase(client, "p") == "" })
	waitFor(t, "the pod to be forgotten", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.runs) == 0 && len(p.ips) == 0
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.deletes) != 1 {
		t.Fatalf("%d deletions, want 1", len(rec.deletes))
	}
	d := rec.deletes[0].DeleteOptions
	if d.GracePeriodSeconds == nil || *d.GracePeriodSeconds != 0 || d.Preconditions == nil || *d.Preconditions.UID != "uid-p" {
		t.Errorf("deleted with %+v, want grace period 0 and the pod's UID", d)
	}
	if _, ok := p.container("ns", "p", "build"); ok {
		t.Error("the deleted pod's container is still known")
	}
}

func TestAPodThatRestartsAlwaysRunsOn(t *testing.T) {
	pod := buildPod("p", "vk")
	pod.Spec.RestartPolicy = corev1.RestartPolicyAlways
	client := fake.NewClientset(pod)
	startPlayer(t, client, 50*time.Millisecond)
	waitFor(t, "the pod to run", func() bool { return phase(client, "p") == corev1.PodRunning })
	time.Sleep(200 * time.Millisecond)
	if ph := phase(client, "p"); ph != corev1.PodRunning {
		t.Errorf("phase %s after its run, want Running still", ph)
	}
}

func TestAPodStartedBeforeARestartCarriesOn(t *testing.T) {
	pod := buildPod("p", "vk")
	pod.Status.Phase = corev1.PodRunning
	pod.Status.PodIP, pod.Status.PodIPs = "10.245.0.9", []corev1.PodIP{{IP: "10.245.0.9"}}
	pod.Status.StartTime = ptr(metav1.NewTime(time.Now().Add(-time.Minute)))
	done := buildPod("done", "vk")
	done.Status.Phase = corev1.PodSucceeded
	done.Status.PodIP = "10.245.0.10"
	done.Status.StartTime = ptr(metav1.NewTime(time.Now().Add(-time.Minute)))
	client := fake.NewClientset(pod, done)
	rec := &recorder{}
	rec.watch(client)
	p := startPlayer(t, client, time.Second)
	waitFor(t, "the pod to succeed", func() bool { return phase(client, "p") == corev1.PodSucceeded })
	if s := rec.written(); len(s) != 1 || s[0].Status.PodIP != "10.245.0.9" {
		t.Errorf("%d status writes, want 1 keeping the pod's IP", len(s))
	}
	c, ok := p.container("ns", "done", "build")
	if !ok || !c.started.Equal(done.Status.StartTime.Time) || c.ends.After(time.Now()) {
		t.Errorf("the finished pod's container: %+v, %v; want it ended", c, ok)
	}
}

func TestNextIPSkipsAddressesInUse(t *testing.T) {
	p := newPlayer(fake.NewClientset(), "vk", "10.251.0.2", time.Second, t.Logf, t.Errorf)
	p.ips["10.245.0.2"] = true
	got := []string{p.nextIP(), p.nextIP()}
	if got[0] != "10.245.0.1" || got[1] != "10.245.0.3" {
		t.Errorf("addresses %v, want 10.245.0.1 and 10.245.0.3", got)
	}
	p.lastIP = podNetSize - 1
	if ip := p.nextIP(); ip != "10.245.255.254" {
		t.Errorf("the last address is %s", ip)
	}
	if ip := p.nextIP(); ip != "10.245.0.1" {
		t.Errorf("after the last address came %s, want the first again", ip)
	}
}
