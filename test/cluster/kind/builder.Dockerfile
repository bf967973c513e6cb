# The end-to-end suite's builder image for a real cluster: the same recipe as the test cluster's
# debootstrap image (test/cluster/infra/images.ts), as a Dockerfile for hosted runners.
FROM debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends buildah git ca-certificates containernetworking-plugins tar gzip coreutils bash openssh-client \
 && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /etc/containers \
 && printf '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n' > /etc/containers/storage.conf \
 && printf 'unqualified-search-registries = []\nshort-name-mode = "permissive"\n' > /etc/containers/registries.conf \
 && printf '[containers]\nnetns = "host"\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > /etc/containers/containers.conf
ENV BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs
CMD ["/bin/bash"]
