/**
 * The fork server's program, run by `perl -e` (perl-base is Essential in Debian; only its core
 * modules are used). Forking a small Perl process costs a fraction of forking a large Node process,
 * whose page tables the kernel must copy for every child.
 *
 * Protocol, one line per message, every string hex-encoded:
 *   in:  spawn ID CAP COMMAND ARGC ARG… ENVC NAME=VALUE…
 *   out: ready                            once, at start
 *        pid ID PID                       the child runs (its exec succeeded)
 *        error ID ERRNO MESSAGE           it could not be started (ENOENT, EACCES, …)
 *        exit ID CODE SIGNAL              its leader ended (CODE or SIGNAL is "-")
 *        output ID DROPPED HEAD TAIL DROPPED HEAD TAIL   stdout then stderr, as soon as the leader exited:
 *                                         what the pipes hold then is read and they are closed (a
 *                                         daemon the agent started, e.g. IPaddr2's send_arp, may hold
 *                                         them open long after; waiting for their EOF would delay the
 *                                         operation's result)
 * Each child leads a new session (so its whole process group can be killed by pid) and gets
 * stdin from /dev/null, exactly the given environment, and no shell.
 */
export const forkServerProgram = String.raw`
use strict; use warnings;
use POSIX qw(:sys_wait_h setsid _exit);
use IO::Handle; use IO::Select; use Fcntl qw(F_GETFD F_SETFD F_GETFL F_SETFL FD_CLOEXEC O_NONBLOCK);
$| = 1;
sub hex_of { return unpack("H*", $_[0]) } sub of_hex { return pack("H*", $_[0]) }
my $select = IO::Select->new(); $select->add(\*STDIN);
my (%proc, %by_fd, %by_pid); my $in = '';
# SIGCHLD wakes the select through a pipe, whenever it arrives
pipe(my $sig_r, my $sig_w) or die "pipe: $!"; $sig_w->autoflush(1); $select->add($sig_r);
$SIG{CHLD} = sub { syswrite($sig_w, "c") };
$SIG{PIPE} = 'IGNORE';
print "ready\n";
sub finish_output {
  my ($p) = @_; return if $p->{reported};
  $p->{reported} = 1;
  for my $s (@{$p->{streams}}) { if ($s->{fh}) { $select->remove($s->{fh}); delete $by_fd{fileno($s->{fh})}; close($s->{fh}); $s->{fh} = undef } }
  my @f = map { ($_->{dropped}, hex_of($_->{head}), hex_of($_->{tail})) } @{$p->{streams}};
  print join(' ', 'output', $p->{id}, @f), "\n";
  delete $proc{$p->{id}};
}
sub spawn_child {
  my ($id, $cap, $command, $args, $env) = @_;
  pipe(my $out_r, my $out_w) or return print "error $id 0 ", hex_of("pipe: $!"), "\n";
  pipe(my $err_r, my $err_w) or return print "error $id 0 ", hex_of("pipe: $!"), "\n";
  pipe(my $st_r, my $st_w) or return print "error $id 0 ", hex_of("pipe: $!"), "\n";
  my $flags = fcntl($st_w, F_GETFD, 0); fcntl($st_w, F_SETFD, $flags | FD_CLOEXEC);
  my $pid = fork();
  if (!defined $pid) { return print "error $id 0 ", hex_of("fork: $!"), "\n" }
  if ($pid == 0) {
    close($out_r); close($err_r); close($st_r);
    setsid();
    $SIG{CHLD} = 'DEFAULT'; $SIG{PIPE} = 'DEFAULT';
    open(STDIN, '<', '/dev/null'); open(STDOUT, '>&', $out_w); open(STDERR, '>&', $err_w);
    close($out_w); close($err_w);
    %ENV = %$env;
    { no warnings 'exec'; exec { $command } ($command, @$args); }
    my $errno = $! + 0; syswrite($st_w, "$errno " . hex_of("$!")); _exit(127);
  }
  close($out_w); close($err_w); close($st_w);
  my $status = ''; while (sysread($st_r, my $buf, 4096)) { $status .= $buf } close($st_r);
  if ($status ne '') {
    my ($errno, $message) = split(/ /, $status);
    waitpid($pid, 0); close($out_r); close($err_r);
    return print "error $id $errno $message\n";
  }
  my $p = { id => $id, pid => $pid, cap => $cap, exited => undef, reported => 0, streams => [] };
  for my $fh ($out_r, $err_r) {
    my $s = { fh => $fh, head => '', tail => '', dropped => 0 };
    push @{$p->{streams}}, $s; $select->add($fh); $by_fd{fileno($fh)} = [$p, $s];
  }
  $proc{$id} = $p; $by_pid{$pid} = $p;
  print "pid $id $pid\n";
}
sub read_stream {
  my ($p, $s) = @_;
  my $n = sysread($s->{fh}, my $buf, 65536);
  if (!$n) { $select->remove($s->{fh}); delete $by_fd{fileno($s->{fh})}; close($s->{fh}); $s->{fh} = undef;
    finish_output($p) if defined $p->{exited} && !grep { $_->{fh} } @{$p->{streams}}; return }
  my $room = $p->{cap} - length($s->{head});
  if ($room > 0) { $s->{head} .= substr($buf, 0, $room); $buf = length($buf) > $room ? substr($buf, $room) : '' }
  if (length($buf) > 0) {
    my $keep = $p->{cap} < 16384 ? int($p->{cap} / 4) : 4096;
    my $joined = $s->{tail} . $buf;
    my $cut = length($joined) > $keep ? length($joined) - $keep : 0;
    $s->{dropped} += $cut; $s->{tail} = substr($joined, $cut);
  }
}
sub reap {
  while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
    my $p = delete $by_pid{$pid}; next unless $p;
    my ($code, $signal) = WIFEXITED($?) ? (WEXITSTATUS($?), '-') : ('-', WTERMSIG($?));
    $p->{exited} = 1;
    print "exit $p->{id} $code $signal\n";
    # everything the leader wrote is in the pipes now: read it without waiting for an EOF that a
    # process it left behind may hold off (bounded, in case such a process keeps writing)
    for my $s (@{$p->{streams}}) {
      next unless $s->{fh};
      my $flags = fcntl($s->{fh}, F_GETFL, 0); fcntl($s->{fh}, F_SETFL, $flags | O_NONBLOCK);
      for (1 .. 64) { last unless $s->{fh}; read_stream($p, $s) }
    }
    finish_output($p);
  }
}
while (1) {
  my @ready = $select->can_read();
  reap();
  for my $fh (@ready) {
    if ($fh == $sig_r) { sysread($sig_r, my $drain, 4096) }
    elsif ($fh == \*STDIN) {
      my $n = sysread(STDIN, my $buf, 65536);
      exit(0) if !$n;
      $in .= $buf;
      while ((my $nl = index($in, "\n")) >= 0) {
        my @f = split(/ /, substr($in, 0, $nl)); $in = substr($in, $nl + 1);
        next unless @f && $f[0] eq 'spawn';
        my (undef, $id, $cap, $cmd, $argc, @rest) = @f;
        my @args = map { of_hex($_) } splice(@rest, 0, $argc);
        my $envc = shift @rest; my %env = map { split(/=/, of_hex($_), 2) } splice(@rest, 0, $envc);
        spawn_child($id, $cap, of_hex($cmd), \@args, \%env);
      }
    } elsif (defined fileno($fh) && (my $entry = $by_fd{fileno($fh)})) { read_stream(@$entry) }
  }
}
`
