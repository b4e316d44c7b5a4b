# shellcheck shell=bash
# PKI for the local control plane, made with openssl: the cluster CA, the apiserver's serving
# certificate, client certificates (CN = user, O = groups), the service-account key pair, and a
# separate front-proxy CA for the aggregation layer (request-header authentication).
# Files already present are kept, so kubeconfigs stay valid across restarts.

# pki_ca DIR NAME: a CA (NAME.crt, NAME.key).
pki_ca() {
  local dir="$1" name="$2"
  [[ -s "$dir/$name.crt" && -s "$dir/$name.key" ]] && return
  mkdir -p "$dir"
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$name.key" 2>/dev/null
  openssl req -x509 -new -key "$dir/$name.key" -sha256 -days 3650 -subj "/CN=smartmig-local-$name" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$dir/$name.crt" 2>/dev/null
}

# pki_cert DIR NAME SUBJECT USAGE [SAN] [CA]: NAME.crt/NAME.key signed by CA (default: ca).
# USAGE is serverAuth, clientAuth or both ("serverAuth,clientAuth").
pki_cert() {
  local dir="$1" name="$2" subject="$3" usage="$4" san="${5:-}" ca="${6:-ca}"
  [[ -s "$dir/$name.crt" && -s "$dir/$name.key" ]] && return
  local ext="$dir/$name.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n "$san" ]] && echo "subjectAltName=$san"
  } >"$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$name.key" 2>/dev/null
  openssl req -new -key "$dir/$name.key" -subj "$subject" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" -CAcreateserial \
    -sha256 -days 3650 -extfile "$ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$ext"
}

# pki_client DIR NAME USER [GROUP...]: a client certificate for USER in GROUPs.
pki_client() {
  local dir="$1" name="$2" user="$3"
  shift 3
  local subject="" group
  for group in "$@"; do subject+="/O=$group"; done
  pki_cert "$dir" "$name" "$subject/CN=$user" clientAuth
}

# pki_service_accounts DIR: the key pair that signs and verifies service-account tokens.
pki_service_accounts() {
  local dir="$1"
  [[ -s "$dir/sa.key" && -s "$dir/sa.pub" ]] && return
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
}

# write_kubeconfig FILE SERVER CA_FILE CERT_FILE KEY_FILE USER: a self-contained kubeconfig
# (certificates embedded), so it can be copied or mounted anywhere.
write_kubeconfig() {
  local file="$1" server="$2" ca="$3" cert="$4" key="$5" user="$6"
  local tmp="$file.tmp"
  cat >"$tmp" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: smartmig-local
    cluster:
      server: $server
      certificate-authority-data: $(base64 -w0 <"$ca")
users:
  - name: $user
    user:
      client-certificate-data: $(base64 -w0 <"$cert")
      client-key-data: $(base64 -w0 <"$key")
contexts:
  - name: $user@smartmig-local
    context:
      cluster: smartmig-local
      user: $user
current-context: $user@smartmig-local
KUBECONFIG
  chmod 600 "$tmp"
  mv "$tmp" "$file"
}
