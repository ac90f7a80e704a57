#!/bin/bash
# tests/scripts/include_rules.sh - the layering of refvmm (docs/ARCHITECTURE.md,
# "Layers"), checked over the #include "..." lines of refvmm/, probes/ and
# results/: each layer may include only the layers below it. Also: no
# include cycle among those files, and no core file compares vm->ops with a
# concrete backend. Prints every offence as FILE:LINE and exits 1.
#
#   bash tests/scripts/include_rules.sh
set -uo pipefail
cd "$(dirname "$0")/../.."

# layer of a file (by path)
layer_of() {
  case $1 in
  refvmm/model/cpu/*) echo model-cpu ;;
  refvmm/model/vmm/*) echo model-vmm ;;
  refvmm/model/cost/*) echo model-cost ;;
  refvmm/model/*) echo model-backend ;;
  refvmm/kvm/*) echo kvm-backend ;;
  refvmm/*/*) echo backend ;; # any other backend's folder
  refvmm/*) echo core ;;
  probes/*) echo probes ;;
  results/*) echo results ;;
  workloads/rt/vtb_abi.h | workloads/rt/wl_params.h) echo abi ;;
  *) echo other ;;
  esac
}

# May a file of layer $1 include file $2 (of layer $3)?
allowed() {
  local from=$1 target=$2 to=$3
  [ "$to" = abi ] && return 0 # the guest ABI is everyone's
  case $from in
  core) [[ $to =~ ^(core|probes|results)$ ]] ;;
  kvm-backend | backend | model-backend)
    # a backend: the core's interface headers, its own folder, the probes
    [[ $to =~ ^(core|probes)$ ]] || [ "$to" = "$from" ] ||
      { [ "$from" = model-backend ] && [[ $to == model-* ]]; } ;;
  model-cpu) [ "$to" = model-cpu ] ;; # the machine: nothing but itself
  model-vmm)
    # the VMM's exit handlers: the CPU only through its VMCS-like interface
    [ "$to" = model-vmm ] ||
      [[ $target =~ ^refvmm/model/cpu/(model_vmcs|x86)\.h$ ]] ||
      [[ $target =~ ^refvmm/(event_policy|vm)\.h$ ]] ;;
  model-cost) [[ $to =~ ^model-(cpu|vmm|cost)$ ]] ;; # accounting reads both
  probes) [ "$to" = probes ] ;;
  results) [[ $to =~ ^(results|probes)$ ]] || [ "$target" = refvmm/kvm/kvm_host.h ] ;;
  *) return 0 ;;
  esac
}

# resolve an include as the compiler does (-I. -I$(BUILD)/gen): next to the
# file, else from the top; a generated header resolves to nothing
resolve() {
  local dir=$1 inc=$2
  if [ -f "$dir/$inc" ]; then realpath -m --relative-to=. "$dir/$inc"
  elif [ -f "$inc" ]; then realpath -m --relative-to=. "$inc"
  fi
}

fail=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
while IFS= read -r f; do
  from=$(layer_of "$f")
  while IFS=: read -r line inc; do
    target=$(resolve "$(dirname "$f")" "$inc")
    [ -n "$target" ] || continue
    to=$(layer_of "$target")
    echo "$f $target" >>"$edges"
    if ! allowed "$from" "$target" "$to"; then
      echo "$f:$line: #include \"$inc\": the $from layer may not include $target ($to)"
      fail=1
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
    sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
done < <(find refvmm probes results -name '*.[ch]' | sort)

# cycles: tsort names the files of a loop
if ! out=$(tsort "$edges" 2>&1 >/dev/null); then
  echo "include cycle: $(echo "$out" | grep -v 'input contains a loop' | sed 's/^tsort: //' | tr '\n' ' ')"
  fail=1
fi

# the core never asks which backend it runs on
while IFS= read -r hit; do
  echo "$hit: the core compares vm->ops with a concrete backend (add a hook to backend.h)"
  fail=1
done < <(grep -n 'ops *[!=]= *&[a-z0-9_]*_backend_ops' refvmm/*.c refvmm/*.h)

if [ $fail -eq 0 ]; then
  echo "include rules: $(wc -l <"$edges") includes follow the layers, no cycle"
else
  echo "include rules: violations above (docs/ARCHITECTURE.md, Layers)" >&2
fi
exit $fail
