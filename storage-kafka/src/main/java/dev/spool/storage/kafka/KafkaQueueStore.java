package dev.spool.storage.kafka;

import dev.spool.storage.AvailabilityListener;
import dev.spool.storage.CreateResult;
import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.DeleteResult;
import dev.spool.storage.Durability;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.NoSuchQueue;
import dev.spool.storage.OptionsResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.QueueStats;
import dev.spool.storage.QueueStore;
import dev.spool.storage.RedriveResult;
import dev.spool.storage.SettleResult;
import dev.spool.storage.SharedMap;
import dev.spool.storage.Settlement;
import dev.spool.storage.StatsResult;
import dev.spool.storage.StoreContract;
import dev.spool.storage.StoreException;
import dev.spool.storage.TakeResult;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The storage port over an Apache Kafka 4.4 cluster. Each queue is a one-partition topic read by a share
 * group (KIP-932); dead letters use the share-group DLQ (KIP-1191); the queues themselves are listed in the
 * catalog topic {@code spool.__queues}, read by every node. No queue data lives on the node, so
 * several nodes serve the same queues. What this backend guarantees differently from the journal store is
 * {@link #contract()}, stated in the README's cluster contract table.
 */
public final class KafkaQueueStore implements QueueStore {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaQueueStore.class);
    /** A CLAIM older than this without READY is taken to be from a node that died while creating. */
    private static final long STALE_CLAIM_MS = 60_000;
    private static final long LAG_CACHE_MS = 250;

    private final KafkaSettings settings;
    private final DeadLetters deadLetters;
    private final Admin admin;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Catalog catalog;
    private final Map<String, Object> consumerBase;
    private final short replicationFactor;
    private final int minInsync;
    private final TopicSettings topics;
    private final StoreContract contract;
    private final Map<String, Pump> pumps = new ConcurrentHashMap<>();
    /** This node's counts per queue creation (uuid), for the stats. */
    private final Map<String, Tally> tallies = new ConcurrentHashMap<>();
    private final Map<String, Depth> depths = new ConcurrentHashMap<>();
    private final Map<String, KafkaSharedMap> shared = new ConcurrentHashMap<>();
    private final KeyLocks keyLocks = new KeyLocks();
    private final Map<String, Object> clientBase;
    /** Node id -> advertised URL, for forwarding a lease's settlement to the node that holds it. */
    private final KafkaSharedMap nodes;
    private final NodeRegistry registry;
    /** Brokers alive, log sizes and replication, read for the stats and the health check. */
    final ClusterView cluster;
    /** Deletes consumed records and the leftovers of deleted queues. */
    final Sweeper sweeper;
    /** {@code <queue uuid>/<Idempotency-Key>} -> {@code <id>:<epoch ms>}, kept for the idempotency window. */
    private final KafkaSharedMap idempotency;
    private volatile boolean closed;
    /**
     * Sends pushes and their idempotency keys to Kafka: off the caller's IO thread and off the Kafka clients'
     * network threads (a send can wait for a topic's metadata, and one from the producer's own thread could
     * wait on itself).
     */
    private final java.util.concurrent.ExecutorService sender =
            java.util.concurrent.Executors.newFixedThreadPool(2, daemon("spool-kafka-send"));
    /** Looks up idempotency keys this node has not seen in the cluster (waits for Kafka). */
    private final java.util.concurrent.ExecutorService lookups =
            java.util.concurrent.Executors.newFixedThreadPool(2, daemon("spool-kafka-key-lookup"));
    private final java.util.concurrent.ScheduledExecutorService housekeeping =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(daemon("spool-kafka-housekeeping"));

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    private KafkaQueueStore(KafkaSettings settings, DeadLetterCodec codec) {
        this.settings = settings;
        Map<String, Object> base = new HashMap<>(settings.client());
        base.put("bootstrap.servers", settings.bootstrapServers());
        base.put("client.id", "spool-" + settings.nodeId());
        Map<String, Object> a = new HashMap<>(base);
        a.put("default.api.timeout.ms", 30_000);
        a.put("request.timeout.ms", 10_000);
        this.admin = Admin.create(a);
        int brokers;
        try {
            brokers = admin.describeCluster().nodes().get(60, TimeUnit.SECONDS).size();
        } catch (ExecutionException | TimeoutException e) {
            admin.close(Duration.ofSeconds(1));
            throw new StoreException(StoreException.Code.UNAVAILABLE, "cannot reach Kafka at "
                    + settings.bootstrapServers() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            admin.close(Duration.ofSeconds(1));
            throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted", e);
        }
        KafkaPreflight.check(admin, settings);
        // As configured (default 3 and 2), never lowered to the brokers alive now: a queue made while two of three
        // were down would have kept one replica and still answered "replicated".
        this.replicationFactor = (short) settings.replicationFactor();
        this.minInsync = settings.minInsyncReplicas();
        Map<String, Object> p = new HashMap<>(base);
        p.put("acks", "all");
        p.put("enable.idempotence", true);
        p.put("linger.ms", 0);
        // One request in flight per broker: pushes arriving while it travels go out together in the next one, an
        // adaptive linger (none when idle). Five in flight sent each concurrent push alone: workload A at 64
        // connections made 0.24 of ProducerPerformance, 0.38 with one (benchmarks/cluster/run.sh, one sitting).
        p.put("max.in.flight.requests.per.connection", 1);
        p.put("delivery.timeout.ms", 60_000);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        this.producer = new KafkaProducer<>(p);
        Map<String, Object> c = new HashMap<>(base);
        c.put("share.acknowledgement.mode", "explicit");
        c.put("share.acquire.mode", "record_limit");
        c.put("max.poll.records", settings.maxPollRecords());
        c.putIfAbsent("request.timeout.ms", (int) settings.shareRequestTimeout().toMillis());
        c.put("key.deserializer", ByteArrayDeserializer.class.getName());
        c.put("value.deserializer", ByteArrayDeserializer.class.getName());
        this.consumerBase = c;
        this.clientBase = base;
        this.topics = new TopicSettings(admin, replicationFactor, minInsync);
        topics.ensureCatalogTopic();
        this.catalog = new Catalog(base, producer, () -> endOffset(new TopicPartition(Catalog.TOPIC, 0)));
        this.deadLetters = new DeadLetters(catalog, producer, settings, codec);
        catalog.sync();
        this.nodes = sharedMap("nodes", Map.of());
        // Segments roll once a window, so that retention can delete whole old ones (with the default 7 days, keys
        // stayed on disk a week past a one-day window).
        this.idempotency = sharedMap("idempotency", Map.of("cleanup.policy", "compact,delete",
                "retention.ms", Long.toString(settings.idempotencyWindow().toMillis()),
                "segment.ms", Long.toString(settings.idempotencyWindow().toMillis())),
                settings.maxKeysInMemory(), settings.idempotencyWindow().toMillis());
        housekeeping.scheduleWithFixedDelay(this::forgetOldKeys, 1, 1, TimeUnit.MINUTES);
        housekeeping.scheduleWithFixedDelay(this::closeDeletedPumps, 10, 10, TimeUnit.SECONDS);
        this.cluster = new ClusterView(admin, catalog, minInsync);
        this.sweeper = new Sweeper(admin, catalog);
        housekeeping.scheduleWithFixedDelay(sweeper::removeLeftovers, 1, Sweeper.LEFTOVERS_EVERY_S, TimeUnit.SECONDS);
        housekeeping.scheduleWithFixedDelay(sweeper::trimConsumed, Sweeper.TRIM_EVERY_S, Sweeper.TRIM_EVERY_S,
                TimeUnit.SECONDS);
        this.registry = new NodeRegistry(nodes, settings.nodeId(), settings.advertisedUrl());
        try {
            registry.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted", e);
        } catch (StoreException e) {
            housekeeping.shutdownNow();
            closeClients(Duration.ofSeconds(1), Duration.ofSeconds(1));
            throw e;
        }
        housekeeping.scheduleWithFixedDelay(this::heartbeat, NodeRegistry.HEARTBEAT_MS, NodeRegistry.HEARTBEAT_MS,
                TimeUnit.MILLISECONDS);
        // Leases of any length, renewals and delayed nacks: the pumps renew the broker's lock while they need it.
        this.contract = new StoreContract("kafka", false, false, false, false, 2, settings.maxDeliveryLimit(), false,
                StoreContract.EXACT.maxVisibility(), true, true, "cluster", true, List.of(Durability.REPLICATED));
        LOG.info("Kafka backend: {} broker(s) at {}, replication factor {}, min in-sync {}", brokers,
                settings.bootstrapServers(), replicationFactor, minInsync);
    }

    /** Connects to the cluster and reads the queue catalog; fails if Kafka cannot be reached in 60 s. */
    public static KafkaQueueStore open(KafkaSettings settings, DeadLetterCodec codec) {
        return new KafkaQueueStore(settings, codec);
    }

    @Override
    public StoreContract contract() {
        return contract;
    }

    // ------------------------------------------------------------------ queues

    @Override
    public CreateResult create(String name, QueueOptions options) {
        checkName(name);
        // 0 from a caller of the port (QueueOptions.ofMaxLength) gets Kafka's limit; a user who asks for 0, never
        // dead-letter, is refused by the API before it gets here (contract.refuseMaxDeliveries).
        String refused = options.maxDeliveries() == 0 ? null : contract.refuseMaxDeliveries(options.maxDeliveries());
        if (refused != null) {
            throw new IllegalArgumentException(refused);
        }
        int live = cluster.liveBrokers();
        if (live < replicationFactor) {
            throw new StoreException(StoreException.Code.UNAVAILABLE, "the queue was not created: it needs "
                    + replicationFactor + " replicas (kafka.replication_factor) and " + live + " Kafka broker(s) are "
                    + "alive; start the others, or set kafka.replication_factor lower for a smaller cluster", null);
        }
        return create(name, options, false);
    }

    private CreateResult create(String name, QueueOptions options, boolean deadLetter) {
        open();
        QueueEntry live = catalog.live(name);
        if (live != null && live.op() == QueueEntry.Op.CLAIM
                && System.currentTimeMillis() - live.createdAt().toEpochMilli() > STALE_CLAIM_MS) {
            LOG.warn("queue '{}' was claimed at {} by node {} and never finished; removing the claim", name,
                    live.createdAt(), live.claimedBy());
            catalog.append(live.as(QueueEntry.Op.DELETE));
            live = null;
        }
        if (live != null) {
            return CreateResult.EXISTS;
        }
        QueueEntry mine = new QueueEntry(QueueEntry.Op.CLAIM, name, UUID.randomUUID().toString(), options,
                Instant.now(), deadLetter, settings.nodeId());
        catalog.append(mine);
        QueueEntry winner = catalog.live(name);
        if (winner == null || !winner.uuid().equals(mine.uuid())) {
            return CreateResult.EXISTS;
        }
        try {
            String dlqTopic = null;
            if (!deadLetter) {
                String dlqName = options.deadLetterQueueFor(name);
                QueueEntry dlq = catalog.ready(dlqName);
                if (dlq == null) {
                    create(dlqName, QueueOptions.ofMaxLength(Long.MAX_VALUE), true);
                    dlq = catalog.ready(dlqName);
                }
                if (dlq == null || !dlq.deadLetter()) {
                    throw new IllegalArgumentException("dead_letter_queue '" + dlqName + "' exists and was not created"
                            + " as a dead-letter queue; on the kafka backend a queue's dead letters go to a queue"
                            + " Spool creates for them");
                }
                dlqTopic = dlq.topic();
            }
            createTopic(mine, dlqTopic);
            catalog.append(mine.as(QueueEntry.Op.READY));
            return CreateResult.CREATED;
        } catch (RuntimeException e) {
            catalog.append(mine.as(QueueEntry.Op.DELETE));
            throw e;
        }
    }

    /** A queue topic's segment size: consumed records go from the disk a segment at a time. */
    static final String SEGMENT_BYTES = Long.toString(64L << 20);

    private void createTopic(QueueEntry e, String dlqTopic) {
        Map<String, String> cfg = new LinkedHashMap<>();
        cfg.put("min.insync.replicas", Integer.toString(minInsync));
        cfg.put("retention.ms", "-1");
        cfg.put("retention.bytes", "-1");
        cfg.put("segment.bytes", SEGMENT_BYTES);
        if (e.deadLetter()) {
            cfg.put("errors.deadletterqueue.group.enable", "true");
        }
        Map<String, String> group = new LinkedHashMap<>();
        group.put("share.auto.offset.reset", "earliest");
        group.put("share.record.lock.duration.ms", Long.toString(settings.lockDuration().toMillis()));
        group.put("share.delivery.count.limit", Integer.toString(deadLetters.deliveryLimit(e)));
        group.put("share.heartbeat.interval.ms", "500");
        if (dlqTopic != null) {
            group.put("errors.deadletterqueue.topic.name", dlqTopic);
            group.put("errors.deadletterqueue.copy.record.enable", "true");
        }
        try {
            // The group's settings first: a record pushed before them would be missed by "latest".
            alterGroup(e.group(), group);
            admin.createTopics(List.of(new NewTopic(e.topic(), 1, replicationFactor).configs(cfg)))
                    .all().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException ex) {
            if (ex.getCause() instanceof TopicExistsException) {
                return;
            }
            throw new StoreException(StoreException.Code.UNAVAILABLE, "cannot create the topic of queue '"
                    + e.name() + "': " + ex.getCause(), ex.getCause());
        } catch (TimeoutException ex) {
            throw new StoreException(StoreException.Code.UNAVAILABLE, "Kafka did not create the topic in time", ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted", ex);
        }
    }

    private void alterGroup(String group, Map<String, String> cfg) throws ExecutionException, InterruptedException,
            TimeoutException {
        List<AlterConfigOp> ops = new ArrayList<>();
        cfg.forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET)));
        admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), ops))
                .all().get(30, TimeUnit.SECONDS);
    }

    @Override
    public DeleteResult delete(String name) {
        open();
        QueueEntry e = catalog.ready(name);
        if (e == null) {
            return new NoSuchQueue(name);
        }
        catalog.append(e.as(QueueEntry.Op.DELETE));
        Pump p = pumps.remove(name);
        if (p != null) {
            p.close();
        }
        depths.remove(name);
        try {
            admin.deleteShareGroups(List.of(e.group())).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException ex) {
            LOG.debug("share group of '{}' not deleted: {}", name, ex.toString());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        try {
            admin.deleteTopics(List.of(e.topic())).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException ex) {
            LOG.warn("topic {} of deleted queue '{}' not deleted yet: {}", e.topic(), name, ex.toString());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        return new DeleteResult.Deleted();
    }

    /** A queue's catalog entry while it is ready, or null (for tests that look at its topic and group). */
    QueueEntry catalogEntry(String name) {
        return catalog.ready(name);
    }

    @Override
    public List<String> list() {
        return catalog.entries().stream().filter(e -> e.op() == QueueEntry.Op.READY).map(QueueEntry::name)
                .sorted().toList();
    }

    @Override
    public OptionsResult options(String name) {
        QueueEntry e = catalog.ready(name);
        return e == null ? new NoSuchQueue(name) : e.options();
    }

    @Override
    public StatsResult stats(String name) {
        QueueEntry e = catalog.ready(name);
        if (e == null) {
            return new NoSuchQueue(name);
        }
        TopicPartition tp = new TopicPartition(e.topic(), 0);
        Offsets o = join(offsets(e));
        long end = o.end();
        long depth = o.lag();
        depths.computeIfAbsent(name, k -> new Depth()).reset(depth);
        ClusterView.View v = cluster.view();
        Tally t = tally(e);
        return new QueueStats(name, depth, e.options().maxLength(), e.options().type(), e.createdAt(), end,
                Math.max(0, end - depth), v.sizes().getOrDefault(tp, 0L), t.inFlight, 0, t.counts(), null,
                v.replication().get(e.topic()));
    }

    /** A queue's log end offset and its lag: the records not yet acknowledged or archived. */
    private record Offsets(long end, long lag) {
    }

    /**
     * The queue's {@link Offsets}, both read from Kafka at once without blocking a thread. Before the share group
     * has started, the whole log is waiting.
     */
    private CompletableFuture<Offsets> offsets(QueueEntry e) {
        TopicPartition tp = new TopicPartition(e.topic(), 0);
        CompletableFuture<Long> end = endOffsetAsync(tp);
        CompletableFuture<SharePartitionOffsetInfo> info = admin.listShareGroupOffsets(
                        Map.of(e.group(), new ListShareGroupOffsetsSpec().topicPartitions(List.of(tp))))
                .partitionsToOffsetInfo(e.group()).toCompletionStage().toCompletableFuture()
                .thenApply(m -> m.get(tp))
                .exceptionally(ex -> {
                    if (cause(ex) instanceof org.apache.kafka.common.errors.GroupIdNotFoundException) {
                        return null; // no group yet: the whole log is waiting
                    }
                    throw new StoreException(StoreException.Code.UNAVAILABLE, "cannot read the depth of '" + e.name()
                            + "' from Kafka: " + cause(ex), cause(ex));
                });
        return end.thenCombine(info, (endOffset, i) -> new Offsets(endOffset, i == null || i.lag().isEmpty()
                ? endOffset - (i == null ? 0 : Math.max(0, i.startOffset())) : i.lag().get()));
    }

    /** What failed inside a future's wrapping. */
    private static Throwable cause(Throwable t) {
        return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    /** A partition's log end offset; 0 for a topic that does not exist (yet). */
    private CompletableFuture<Long> endOffsetAsync(TopicPartition tp) {
        return admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp)
                .toCompletionStage().toCompletableFuture().thenApply(r -> r.offset())
                .exceptionally(ex -> {
                    if (cause(ex) instanceof UnknownTopicOrPartitionException) {
                        return 0L;
                    }
                    throw new StoreException(StoreException.Code.UNAVAILABLE, "cannot read " + tp + " from Kafka: "
                            + cause(ex), cause(ex));
                });
    }

    /** As {@link #endOffsetAsync}, waiting up to 30 s (for the topic readers, on their own threads). */
    private long endOffset(TopicPartition tp) {
        return join(endOffsetAsync(tp), 30);
    }

    // ------------------------------------------------------------------ messages

    @Override
    public CompletionStage<PushResult> append(String name, List<byte[]> payloads, List<String> keyList) {
        QueueEntry e = catalog.ready(name);
        if (e == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        open();
        if (keyList == null) {
            return append(e, payloads, null);
        }
        // A push holds its keys on this node until it is answered: the same key pushed meanwhile waits, then
        // finds it written.
        List<String> held = new ArrayList<>(keyList.size());
        for (String k : keyList) {
            if (k != null) {
                held.add(keyName(e, k));
            }
        }
        java.util.function.Function<Runnable, CompletionStage<PushResult>> push = release -> {
            CompletionStage<PushResult> r;
            try {
                r = append(e, payloads, keyList);
            } catch (RuntimeException ex) {
                release.run();
                throw ex;
            }
            return r.whenComplete((v, x) -> release.run());
        };
        CompletableFuture<Runnable> locked = keyLocks.lock(held);
        // A push that had to wait is let go by the one before it, on whatever thread finished that one (a Kafka
        // client's own, as like as not): it goes on from the store's send threads instead.
        return locked.isDone() ? locked.thenCompose(push) : locked.thenComposeAsync(push, sender);
    }

    private CompletionStage<PushResult> append(QueueEntry e, List<byte[]> payloads, List<String> keyList) {
        String name = e.name();
        long[] ids = new long[payloads.size()];
        // Keys unknown here are looked up in the cluster first, off the caller's (IO) thread.
        List<Integer> knownHere = knownKeys(e, keyList, ids, false);
        CompletableFuture<List<Integer>> freshF = knownHere != null ? CompletableFuture.completedFuture(knownHere)
                : CompletableFuture.supplyAsync(() -> knownKeys(e, keyList, ids, true), lookups);
        Depth d = depths.computeIfAbsent(name, k -> new Depth());
        // The sends run on this store's threads: a send may wait for a new topic's metadata, and the depth may
        // come back on the admin client's network thread. (Sending from the caller's IO thread when neither can
        // happen was slower: workload A at 64 connections made 0.23 of ProducerPerformance against 0.26 this way,
        // benchmarks/cluster/run.sh, two runs each, taking turns; the IO threads then contend for the producer.)
        return freshF.thenCompose(fresh -> d.current(() -> offsets(e).thenApply(Offsets::lag)).thenComposeAsync(
                depth -> send(e, d, fresh, depth, payloads, keyList, ids), sender));
    }

    private CompletionStage<PushResult> send(QueueEntry e, Depth d, List<Integer> fresh, long depth,
                                             List<byte[]> payloads, List<String> keyList, long[] ids) {
        if (depth + fresh.size() > e.options().maxLength()) {
            return CompletableFuture.completedFuture((PushResult) new PushResult.Full(depth, e.options().maxLength()));
        }
        d.pushed.addAndGet(fresh.size());
        List<CompletableFuture<Long>> sends = new ArrayList<>(fresh.size());
        // Each key is written as soon as its own message is stored, not after the whole batch: a batch failing
        // part-way used to leave its first messages stored without their keys, and a retry stored them twice.
        List<CompletableFuture<Void>> keyWrites = new ArrayList<>();
        synchronized (d) { // one queue's pushes from this node go out in order
            for (int i : fresh) {
                CompletableFuture<Long> f = new CompletableFuture<>();
                producer.send(new ProducerRecord<>(e.topic(), 0, null, payloads.get(i)), (md, ex) -> {
                    if (ex != null) {
                        f.completeExceptionally(new StoreException(StoreException.Code.UNAVAILABLE,
                                "Kafka did not acknowledge the push: " + ex, ex));
                    } else {
                        f.complete(md.offset() + 1);
                    }
                });
                sends.add(f);
                if (keyList != null && keyList.get(i) != null) {
                    String key = keyName(e, keyList.get(i));
                    // Off the producer's network thread, which completes f.
                    keyWrites.add(f.thenComposeAsync(id -> idempotency.putAsync(key,
                            (id + ":" + System.currentTimeMillis()).getBytes(StandardCharsets.US_ASCII)), sender));
                }
            }
        }
        // The answer waits for every send and every key of a stored message, whatever failed: a retry after a
        // failure answered part-way finds the keys of what was stored, on any node.
        List<CompletableFuture<?>> all = new ArrayList<>(sends);
        all.addAll(keyWrites);
        CompletableFuture<Void> done = CompletableFuture.allOf(all.stream().map(f -> f.handle((v, x) -> null))
                .toArray(CompletableFuture[]::new)).thenRun(() -> {
                    for (CompletableFuture<?> f : all) {
                        f.join(); // the first failure, if any, fails the push
                    }
                    for (int j = 0; j < fresh.size(); j++) {
                        ids[fresh.get(j)] = sends.get(j).join();
                    }
                    for (int i = 0; i < ids.length; i++) {
                        if (ids[i] < 0) {
                            ids[i] = ids[-1 - (int) ids[i]];
                        }
                    }
                });
        return done.thenApply(v -> {
            boolean consecutive = fresh.size() == payloads.size();
            for (int j = 1; j < fresh.size(); j++) {
                consecutive &= ids[fresh.get(j)] == ids[fresh.get(j - 1)] + 1;
            }
            int dup = payloads.size() - fresh.size();
            tally(e).duplicates.add(dup);
            return (PushResult) (consecutive && dup == 0
                    ? new PushResult.Stored(ids.length == 0 ? 0 : ids[0], ids.length, Durability.REPLICATED)
                    : new PushResult.Stored(ids.length == 0 ? 0 : ids[0], ids.length, Durability.REPLICATED, ids, dup));
        });
    }

    /**
     * Fills {@code ids} for the messages whose key was pushed within the window, on any node, and returns the
     * indexes of the others. A key this node has not seen is looked up again after reading everything written
     * to the keys topic so far ({@code mayWait}), so a retry that follows a push on another node finds it;
     * without {@code mayWait}, such a key gives null.
     */
    private List<Integer> knownKeys(QueueEntry e, List<String> keyList, long[] ids, boolean mayWait) {
        List<Integer> fresh = new ArrayList<>(ids.length);
        boolean synced = false;
        long cutoff = System.currentTimeMillis() - settings.idempotencyWindow().toMillis();
        Map<String, Integer> firstInBatch = keyList == null ? Map.of() : new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            String key = keyList == null ? null : keyList.get(i);
            Integer first = key == null ? null : firstInBatch.putIfAbsent(key, i);
            if (first != null) {
                ids[i] = -1 - first; // a key repeated within the batch: the first copy's id, once it has one
                continue;
            }
            long known = key == null ? -1 : knownKey(e, key, cutoff, synced);
            if (known < 0 && key != null && !synced) {
                if (!mayWait) {
                    return null;
                }
                idempotency.sync();
                synced = true;
                known = knownKey(e, key, cutoff, true);
            }
            if (known >= 0) {
                ids[i] = known;
            } else {
                fresh.add(i);
            }
        }
        return fresh;
    }

    /** Stops the pumps of queues deleted since, on any node (their consumers would otherwise linger). */
    private void closeDeletedPumps() {
        // A tally is made only for a queue this node's catalog had as ready, and the catalog drops a queue only when
        // it is deleted: so a tally of a creation no longer in the catalog is of a deleted queue.
        java.util.Set<String> gone = new java.util.HashSet<>(tallies.keySet());
        for (QueueEntry e : catalog.entries()) {
            gone.remove(e.uuid());
        }
        tallies.keySet().removeAll(gone);
        for (Map.Entry<String, Pump> en : pumps.entrySet()) {
            QueueEntry e = catalog.ready(en.getKey());
            if ((e == null || !e.uuid().equals(en.getValue().uuid())) && pumps.remove(en.getKey(), en.getValue())) {
                en.getValue().close();
            }
        }
    }

    /** Keeps this node's copy of the keys to the window (the topic's retention drops them from the log). */
    private void forgetOldKeys() {
        long cutoff = System.currentTimeMillis() - settings.idempotencyWindow().toMillis();
        idempotency.forgetLocally((k, v) -> keyRecord(v)[1] < cutoff);
    }

    /** The idempotency keys this node holds in memory (at most {@code kafka.max_keys_in_memory}). */
    int keysInMemory() {
        return idempotency.size();
    }

    /** An idempotency key's name in the keys topic and in {@link #keyLocks}: {@code <queue uuid>/<key>}. */
    private static String keyName(QueueEntry e, String key) {
        return e.uuid() + "/" + key;
    }

    /** A key's record in the keys topic: {@code <id>:<epoch ms>}, as {@code {id, at}} ({@code -1, 0} if damaged). */
    private static long[] keyRecord(byte[] v) {
        String s = new String(v, StandardCharsets.US_ASCII);
        int colon = s.indexOf(':');
        return colon < 0 ? new long[] {-1, 0} : new long[] {DeadLetters.parse(s.substring(0, colon), -1), DeadLetters.parse(s.substring(colon + 1), 0)};
    }

    /**
     * The id a key was pushed as within the window, or -1. With {@code deep}, a key this node dropped from memory
     * (past {@code kafka.max_keys_in_memory}) is looked up in the keys topic, which the filter rarely sends for
     * nothing (about 1 % of new keys once keys were dropped).
     */
    private long knownKey(QueueEntry e, String key, long cutoff, boolean deep) {
        String name = keyName(e, key);
        byte[] v = idempotency.get(name);
        if (v == null && deep && idempotency.mayHaveDropped(name)) {
            v = idempotency.lookUp(name, cutoff);
        }
        if (v == null) {
            return -1;
        }
        long[] r = keyRecord(v);
        return r[1] < cutoff ? -1 : r[0];
    }

    @Override
    public CompletionStage<TakeResult> take(String name, int max) {
        return take(name, max, Duration.ZERO);
    }

    @Override
    public CompletionStage<TakeResult> take(String name, int max, Duration wait) {
        Pump p = pump(name);
        if (p == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        return cancellable(p.take(max, wait), r -> {
            if (r instanceof TakeResult.Taken t) {
                depths.computeIfAbsent(name, k -> new Depth()).consumed.addAndGet(t.messages().size());
            }
            return r;
        });
    }

    @Override
    public CompletionStage<LeaseResult> lease(String name, int max, Duration visibility) {
        return lease(name, max, visibility, Duration.ZERO);
    }

    @Override
    public CompletionStage<LeaseResult> lease(String name, int max, Duration visibility, Duration wait) {
        if (visibility.compareTo(contract.maxVisibility()) > 0) {
            throw new IllegalArgumentException("visibility must be at most " + contract.maxVisibility().toSeconds()
                    + " s, was " + visibility.toSeconds() + " s");
        }
        Pump p = pump(name);
        if (p == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        return cancellable(p.lease(max, visibility, wait), r -> r);
    }

    /**
     * {@code source} mapped, whose cancellation reaches {@code source}: a waiting request cancelled by its caller
     * (its client hung up) is dropped by the pump instead of taking or leasing a message for nobody.
     */
    private static <A, B> CompletableFuture<B> cancellable(CompletableFuture<A> source,
                                                          java.util.function.Function<A, B> fn) {
        CompletableFuture<B> out = source.thenApply(fn);
        out.whenComplete((v, x) -> {
            if (out.isCancelled()) {
                source.cancel(false);
            }
        });
        return out;
    }

    @Override
    public CompletionStage<SettleResult> settle(String name, Settlement how, List<String> leases, Duration duration) {
        Pump p = pump(name);
        if (p == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        return p.settle(how, leases, duration).thenApply(r -> {
            if (how == Settlement.ACK && r instanceof SettleResult.Settled s) {
                depths.computeIfAbsent(name, k -> new Depth()).consumed.addAndGet(s.accepted());
            }
            return r;
        });
    }

    /** Whether the Kafka cluster answers and has the brokers pushes need ({@link ClusterView#problem}). */
    @Override
    public String engineProblem() {
        return cluster.problem();
    }

    @Override
    public Optional<String> leaseOwner(String lease) {
        int dot = lease.indexOf('.');
        if (dot <= 0 || lease.substring(0, dot).equals(settings.nodeId())) {
            return Optional.empty();
        }
        // A node gone or silent (its host down) is not asked: its leases have expired.
        return registry.liveUrl(lease.substring(0, dot));
    }

    @Override
    public Optional<SharedMap> shared(String name) {
        return Optional.of(sharedMap(name, Map.of()));
    }

    /** The map kept in the compacted topic {@code spool.__<name>}, created on first use. */
    private KafkaSharedMap sharedMap(String name, Map<String, String> topicConfig) {
        return sharedMap(name, topicConfig, 0, 0);
    }

    /** A shared map holding at most {@code maxEntries} keys in memory (0: all), see {@link KafkaSharedMap}. */
    private KafkaSharedMap sharedMap(String name, Map<String, String> topicConfig, int maxEntries, long keepMs) {
        if (!name.matches("[a-z]{1,32}") || name.equals("queues")) {
            throw new IllegalArgumentException("shared map names are 1 to 32 of [a-z] and not 'queues': " + name);
        }
        return shared.computeIfAbsent(name, n -> {
            String topic = "spool.__" + n;
            topics.ensureCompactedTopic(topic, topicConfig);
            KafkaSharedMap m = new KafkaSharedMap(topic, clientBase, producer,
                    () -> endOffset(new TopicPartition(topic, 0)), maxEntries, keepMs);
            m.sync();
            return m;
        });
    }

    @Override
    public RedriveResult redrive(String name) {
        QueueEntry e = catalog.ready(name);
        if (e == null) {
            return new NoSuchQueue(name);
        }
        String dlqName = e.options().deadLetterQueueFor(name);
        if (catalog.ready(dlqName) == null) {
            return new RedriveResult.Moved(0);
        }
        long moved = 0;
        while (true) {
            LeaseResult r = join(lease(dlqName, 100, settings.lockDuration(), Duration.ZERO));
            if (!(r instanceof LeaseResult.Granted g) || g.messages().isEmpty()) {
                return new RedriveResult.Moved(moved);
            }
            List<byte[]> payloads = new ArrayList<>();
            List<String> tokens = new ArrayList<>();
            for (Leased l : g.messages()) {
                payloads.add(l.payload());
                tokens.add(l.lease());
            }
            PushResult pr = join(append(name, payloads, null));
            if (!(pr instanceof PushResult.Stored)) {
                join(settle(dlqName, Settlement.NACK, tokens, Duration.ZERO));
                return new RedriveResult.Moved(moved);
            }
            join(settle(dlqName, Settlement.ACK, tokens, Duration.ZERO));
            moved += payloads.size();
            tally(e).redriven.add(payloads.size());
        }
    }

    private static <T> T join(CompletionStage<T> s) {
        return join(s, 60);
    }

    private static <T> T join(CompletionStage<T> s, int seconds) {
        try {
            return s.toCompletableFuture().get(seconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re
                    : new StoreException(StoreException.Code.UNAVAILABLE, e.getCause().toString(), e.getCause());
        } catch (TimeoutException e) {
            throw new StoreException(StoreException.Code.UNAVAILABLE, "Kafka did not answer in time", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted", e);
        }
    }

    @Override
    public void subscribe(AvailabilityListener listener) {
        // Nothing to tell: long polls wait inside this store (contract().waitsInside()).
    }

    @Override
    public void checkpoint() {
        // Nothing is kept on the node.
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        housekeeping.shutdownNow();
        sender.shutdown();
        lookups.shutdown();
        try {
            registry.leave(); // acks forwarded here from now on are answered "expired"
        } catch (RuntimeException e) {
            LOG.warn("could not unregister node {}: {}", settings.nodeId(), e.toString());
        }
        for (Pump p : pumps.values()) {
            p.close(); // closing the consumers releases what they hold
        }
        pumps.clear();
        closeClients(Duration.ofSeconds(10), Duration.ofSeconds(5));
    }

    // ------------------------------------------------------------------ helpers

    private Pump pump(String name) {
        QueueEntry e = catalog.ready(name);
        if (e == null) {
            return null;
        }
        open();
        Pump[] replaced = new Pump[1];
        Pump p = pumps.compute(name, (k, old) -> {
            if (old != null && old.uuid().equals(e.uuid())) {
                return old;
            }
            replaced[0] = old; // of an earlier queue of that name, deleted on some node
            return new Pump(e, settings, consumerBase, r -> deadLetters.payload(e, r), tally(e),
                    deadLetters.deliveryLimit(e), r -> deadLetters.move(e, r));
        });
        if (replaced[0] != null) {
            replaced[0].close();
        }
        return p;
    }

    private void heartbeat() {
        try {
            registry.beat();
        } catch (RuntimeException e) {
            LOG.debug("heartbeat: {}", e.toString());
        }
    }

    /** Closes the maps' readers, the catalog's and the Kafka clients: at the end of {@link #close}, or of a refused start. */
    private void closeClients(Duration producerWait, Duration adminWait) {
        shared.values().forEach(KafkaSharedMap::close);
        catalog.close();
        producer.close(producerWait);
        admin.close(adminWait);
    }

    /** This node's counts of a queue's creation (a re-created queue starts from zero). */
    private Tally tally(QueueEntry e) {
        return tallies.computeIfAbsent(e.uuid(), k -> new Tally());
    }

    private static void checkName(String name) {
        if (!QueueStore.isValidName(name)) {
            throw new IllegalArgumentException("queue names must match " + QueueStore.NAME_PATTERN + ", was '" + name + "'");
        }
    }

    private void open() {
        if (closed) {
            throw new StoreException(StoreException.Code.CLOSED, "the store is closed", null);
        }
    }

    /**
     * A queue's depth as this node sees it: the lag Kafka reported at most {@link #LAG_CACHE_MS} ago, plus what
     * this node pushed and less what it consumed since. Exact with one node; soft with several.
     */
    private static final class Depth {
        final AtomicLong pushed = new AtomicLong();
        final AtomicLong consumed = new AtomicLong();
        private volatile long base = -1;
        private volatile long at;

        void reset(long lag) {
            pushed.set(0);
            consumed.set(0);
            base = lag;
            at = System.currentTimeMillis();
        }

        /** One read of Kafka in flight at a time; the pushes that find the figure stale meanwhile share it. */
        private CompletableFuture<Long> reading;

        CompletableFuture<Long> current(java.util.function.Supplier<CompletableFuture<Long>> read) {
            if (base >= 0 && System.currentTimeMillis() - at < LAG_CACHE_MS) {
                return CompletableFuture.completedFuture(Math.max(0, base + pushed.get() - consumed.get()));
            }
            synchronized (this) {
                if (reading == null || reading.isDone()) {
                    reading = read.get().thenApply(lag -> {
                        reset(lag);
                        return lag;
                    });
                }
                return reading.thenApply(lag -> Math.max(0, base + pushed.get() - consumed.get()));
            }
        }
    }
}
