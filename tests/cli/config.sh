# config.sh - where the producer code comes from: option, environment,
# config file, in that order; propagation platforms.
. "$TOP/tests/cli_lib.sh"
F=$FIXTURES
OTHER=001191440300708461136T1308L

# environment
checks=$((checks + 1))
AIMARK_PRODUCER=$CODE "$AIMARK" mark "$F/png-rgb8.png" -o env.png || fail "env producer"
expect 0 "$AIMARK" verify --json env.png
has out "\"ContentProducer\":\"$CODE\""
# the default config file
mkdir -p "$HOME/.config/aimark"
printf '# test config\nproducer = %s\n' $OTHER > "$HOME/.config/aimark/config"
expect 0 "$AIMARK" mark "$F/png-rgb8.png" -o cfg.png
expect 0 "$AIMARK" verify --json cfg.png
has out "\"ContentProducer\":\"$OTHER\""
# the environment beats the file, the option beats both
checks=$((checks + 1))
AIMARK_PRODUCER=$CODE "$AIMARK" mark "$F/png-rgb8.png" -o e2.png || fail "env over config"
expect 0 "$AIMARK" verify --json e2.png
has out "\"ContentProducer\":\"$CODE\""
checks=$((checks + 1))
AIMARK_PRODUCER=$CODE "$AIMARK" mark --producer doubao "$F/png-rgb8.png" -o o2.png || fail "option"
expect 0 "$AIMARK" verify --json o2.png
has out '"ContentProducer":"doubao"'
has out '"provider-name"'
# --config and AIMARK_CONFIG; bad config lines are usage errors
printf 'producer=%s\n' $CODE > my.conf
expect 0 "$AIMARK" mark --config my.conf "$F/png-rgb8.png" -o c3.png
printf 'colour = blue\n' > bad.conf
expect 2 "$AIMARK" mark --config bad.conf "$F/png-rgb8.png" -o c4.png
has err "unknown key 'colour'"
checks=$((checks + 1))
AIMARK_CONFIG=missing.conf "$AIMARK" mark "$F/png-rgb8.png" -o c5.png 2> err
[ $? -eq 2 ] || fail "missing AIMARK_CONFIG"
rm -f "$HOME/.config/aimark/config"
# a propagation platform keeps the production fields
expect 0 "$AIMARK" mark --producer $CODE --produce-id orig-1 "$F/jpeg-baseline.jpg" -o p0.jpg
expect 0 "$AIMARK" mark --propagator $OTHER --propagate-id plat-7 p0.jpg -o p1.jpg
expect 0 "$AIMARK" verify --json p1.jpg
has out "\"ContentProducer\":\"$CODE\""
has out '"ProduceID":"orig-1"'
has out "\"ContentPropagator\":\"$OTHER\""
has out '"PropagateID":"plat-7"'
has out '"propagated"'
# a propagator from the environment never overrides an explicit --producer
checks=$((checks + 1))
AIMARK_PROPAGATOR=$OTHER "$AIMARK" mark --producer doubao --produce-id n-1 p0.jpg -o p3.jpg || fail "env propagator"
expect 0 "$AIMARK" verify --json p3.jpg
has out '"ContentProducer":"doubao"'
has out '"PropagateID":"n-1"'
# ...but without one, it makes a propagation run
checks=$((checks + 1))
AIMARK_PROPAGATOR=$OTHER "$AIMARK" mark p0.jpg -o p4.jpg || fail "env propagation"
expect 0 "$AIMARK" verify --json p4.jpg
has out "\"ContentPropagator\":\"$OTHER\""
has out '"ProduceID":"orig-1"'
# nothing to propagate and no producer: an input error for that file
expect 3 "$AIMARK" mark --propagator $OTHER "$F/png-rgb8.png" -o p2.png
has err "carries no label to propagate"
done_
