package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// podNetSize is the number of pod addresses in 10.245.0.0/16 (beside the real node's 10.244.0.0/24),
// the network and broadcast addresses left out.
const podNetSize = 1<<16 - 2

// player plays the life of each pod bound to the node: Running a moment after it is bound, Succeeded
// --run later; a pod that restarts Always runs until deleted.
type player struct {
	client kubernetes.Interface
	node   string
	hostIP string
	delay  time.Duration // from binding to Running
	run    time.Duration // from Running to Succeeded
	logf   func(format string, args ...any)
	errorf func(format string, args ...any)

	pods   corelisters.PodLister
	writes chan struct{}

	mu     sync.Mutex
	runs   map[string]*podRun // by namespace/name, until the pod is deleted
	ips    map[string]bool    // the addresses the pods in runs hold
	lastIP int
}

// podRun is one pod's life on the node.
type podRun struct {
	uid      types.UID
	ip       string
	once     []string      // the init containers that run to completion, before the others start
	long     []string      // the containers, sidecars included, that run until the pod ends
	forever  bool          // restartPolicy Always: the pod runs until deleted
	started  time.Time     // zero until the containers start
	ends     time.Time     // when the containers end; zero until they start, or for a pod that runs forever
	deleting bool          // its deletion is sent
	gone     chan struct{} // closed when the pod is deleted
}

// newPlayer plays the pods bound to NODE, on HOSTIP, each running RUN.
func newPlayer(client kubernetes.Interface, node, hostIP string, run time.Duration, logf, errorf func(string, ...any)) *player {
	return &player{client: client, node: node, hostIP: hostIP, delay: 100 * time.Millisecond, run: run, logf: logf, errorf: errorf,
		writes: make(chan struct{}, maxWrites), runs: map[string]*podRun{}, ips: map[string]bool{}}
}

// start watches the pods bound to the node, until CTX ends, and plays each. It returns once the pods
// already bound are listed.
func (p *player) start(ctx context.Context) error {
	selector := fields.OneTermEqualSelector("spec.nodeName", p.node).String()
	factory := informers.NewSharedInformerFactoryWithOptions(p.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = selector }))
	pods := factory.Core().V1().Pods()
	p.pods = pods.Lister()
	_, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { p.observe(ctx, obj) },
		UpdateFunc: func(_, obj any) { p.observe(ctx, obj) },
		DeleteFunc: p.forget,
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), pods.Informer().HasSynced) {
		return fmt.Errorf("listing the pods of node %s: %w", p.node, context.Cause(ctx))
	}
	return nil
}

// observe takes in a pod added or changed: a new one starts playing, a deleted one is removed.
func (p *player) observe(ctx context.Context, obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName != p.node {
		return
	}
	key := pod.Namespace + "/" + pod.Name
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.runs[key]
	if r != nil && r.uid != pod.UID {
		p.forgetLocked(key)
		r = nil
	}
	if r == nil {
		r = p.newRun(pod)
		p.runs[key] = r
		if pod.DeletionTimestamp == nil && !terminal(pod) {
			p.logf("%s bound", key)
			go p.play(ctx, key, r)
		}
	}
	if pod.DeletionTimestamp != nil && !r.deleting {
		r.deleting = true
		r.end()
		go p.remove(ctx, pod)
	}
}

// newRun is POD's life. A pod that has started already (played before this process restarted) carries
// on from its status.
func (p *player) newRun(pod *corev1.Pod) *podRun {
	r := &podRun{uid: pod.UID, forever: pod.Spec.RestartPolicy == corev1.RestartPolicyAlways, gone: make(chan struct{})}
	for _, c := range pod.Spec.InitContainers {
		if sidecar(c) {
			r.long = append(r.long, c.Name)
		} else {
			r.once = append(r.once, c.Name)
		}
	}
	for _, c := range pod.Spec.Containers {
		r.long = append(r.long, c.Name)
	}
	if pod.Status.StartTime != nil && pod.Status.PodIP != "" {
		r.ip = pod.Status.PodIP
		r.started = pod.Status.StartTime.Time
		if !r.forever {
			r.ends = r.started.Add(p.run)
		}
		if terminal(pod) && (r.ends.IsZero() || r.ends.After(time.Now())) {
			r.ends = time.Now()
		}
	} else {
		r.ip = p.nextIP()
	}
	p.ips[r.ip] = true
	return r
}

// nextIP is the next pod address, in turn, that no pod holds.
func (p *player) nextIP() string {
	var ip string
	for range podNetSize {
		p.lastIP = p.lastIP%podNetSize + 1
		ip = fmt.Sprintf("10.245.%d.%d", p.lastIP>>8, p.lastIP&0xff)
		if !p.ips[ip] {
			break
		}
	}
	return ip
}

// play takes the pod KEY from bound to Running to Succeeded, unless it is deleted first.
func (p *player) play(ctx context.Context, key string, r *podRun) {
	if r.started.IsZero() {
		if !sleep(ctx, r.gone, p.delay) {
			return
		}
		p.mu.Lock()
		r.started = time.Now()
		if !r.forever {
			r.ends = r.started.Add(p.run)
		}
		p.mu.Unlock()
		if err := p.writeStatus(ctx, key, r, false); err != nil {
			p.report(ctx, key+": setting it running", err)
			return
		}
		p.logf("%s Running %s", key, r.ip)
	}
	if r.forever || !sleep(ctx, r.gone, time.Until(r.ends)) {
		return
	}
	if err := p.writeStatus(ctx, key, r, true); err != nil {
		p.report(ctx, key+": setting it succeeded", err)
		return
	}
	p.logf("%s Succeeded", key)
}

// sleep waits D, and reports false if CTX ends or GONE closes first.
func sleep(ctx context.Context, gone <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-gone:
	case <-ctx.Done():
	}
	return false
}

// forget drops a deleted pod's run, and frees its address.
func (p *player) forget(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forgetLocked(key)
}

func (p *player) forgetLocked(key string) {
	r := p.runs[key]
	if r == nil {
		return
	}
	r.end()
	delete(p.ips, r.ip)
	delete(p.runs, key)
	p.logf("%s gone", key)
}

// end marks the run over: its pod is deleted. Called with the player's lock held.
func (r *podRun) end() {
	select {
	case <-r.gone:
	default:
		close(r.gone)
	}
}

// container is the run of the container NAME of the pod NAMESPACE/POD, for its log, if there is one.
func (p *player) container(namespace, pod, name string) (containerRun, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.runs[namespace+"/"+pod]
	switch {
	case r == nil:
		return containerRun{}, false
	case slices.Contains(r.once, name):
		return containerRun{started: r.started, ends: r.started, gone: r.gone}, true
	case slices.Contains(r.long, name):
		return containerRun{started: r.started, ends: r.ends, gone: r.gone}, true
	}
	return containerRun{}, false
}

// terminal tells whether POD has ended.
func terminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// sidecar tells whether the init container C runs beside the containers rather than before them.
func sidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}
