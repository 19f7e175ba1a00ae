//! A stack's whole life against the emulator: create, no-op re-plan, in-place update,
//! replace, removal of a resource, destroy — each checked by reading the emulator.

use crate::common::{aws, bucket_exists, role_exists, rt, tagged_ec2, Project};

const V1: &str = r#"
name: {{name}}
resources:
  vpc:
    type: aws.ec2.vpc
    properties:
      cidr_block: 10.20.0.0/16
      tags: { Name: "{{name}}" }
  subnet:
    type: aws.ec2.subnet
    properties:
      vpc_id: ${vpc.id}
      cidr_block: 10.20.1.0/24
      availability_zone: us-east-1a
  igw:
    type: aws.ec2.internet_gateway
    properties:
      vpc_id: ${vpc.id}
  public_rt:
    type: aws.ec2.route_table
    properties:
      vpc_id: ${vpc.id}
      routes:
        - destination_cidr_block: 0.0.0.0/0
          gateway_id: ${igw.id}
      subnet_ids: ["${subnet.id}"]
  db_sg:
    type: aws.ec2.security_group
    properties:
      name: "{{name}}-db"
      vpc_id: ${vpc.id}
      ingress:
        - { protocol: tcp, from_port: 3306, to_port: 3306, source_security_group_ids: ["${app_sg.id}"] }
  app_sg:
    type: aws.ec2.security_group
    properties:
      name: "{{name}}-app"
      vpc_id: ${vpc.id}
      ingress:
        - { protocol: tcp, from_port: 443, to_port: 443, cidr_blocks: [10.20.0.0/16] }
  data:
    type: aws.s3.bucket
    properties:
      bucket: "cb-{{name}}-data"
      versioning: true
      force_destroy: true
  read_data:
    type: aws.iam.policy
    properties:
      name: "{{name}}-read"
      policy:
        Version: "2012-10-17"
        Statement:
          - { Effect: Allow, Action: ["s3:GetObject"], Resource: ["${data.arn}/*"] }
  role:
    type: aws.iam.role
    properties:
      name: "{{name}}-role"
      assume_role_policy:
        Version: "2012-10-17"
        Statement:
          - { Effect: Allow, Principal: { Service: glue.amazonaws.com }, Action: "sts:AssumeRole" }
      managed_policy_arns: ["${read_data.arn}"]
      inline_policies:
        logs:
          Version: "2012-10-17"
          Statement:
            - { Effect: Allow, Action: ["logs:PutLogEvents"], Resource: ["*"] }
outputs:
  vpc_id:
    value: ${vpc.id}
"#;

#[test]
fn create_update_replace_remove_destroy() {
    let p = Project::new("lifecycle");
    p.local_env();
    p.write("stacks/main.yaml", V1);

    // ---- create
    let run = p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(run.stderr.contains("Apply complete! Resources: 9 added, 0 changed, 0 destroyed."), "{}", run.stderr);
    let vpc = p.id_of("vpc");
    let subnet = p.id_of("subnet");
    let (app_sg, db_sg) = (p.id_of("app_sg"), p.id_of("db_sg"));
    rt().block_on(async {
        let c = &aws().ec2;
        let v = c.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
        let v = &v.vpcs()[0];
        assert_eq!(v.cidr_block(), Some("10.20.0.0/16"));
        let tags: Vec<(&str, &str)> = v.tags().iter().map(|t| (t.key().unwrap(), t.value().unwrap())).collect();
        for want in [
            ("Name", "lifecycle"),
            ("cloudbridge:stack", "lifecycle"),
            ("cloudbridge:env", "test"),
            ("cloudbridge:address", "vpc"),
            ("owner", "ci"),
        ] {
            assert!(tags.contains(&want), "missing tag {want:?} in {tags:?}");
        }
        let s = c.describe_subnets().subnet_ids(&subnet).send().await.unwrap();
        assert_eq!(s.subnets()[0].vpc_id(), Some(vpc.as_str()));
        let rt_ = c.describe_route_tables().route_table_ids(p.id_of("public_rt")).send().await.unwrap();
        let t = &rt_.route_tables()[0];
        assert!(t.routes().iter().any(
            |r| r.destination_cidr_block() == Some("0.0.0.0/0") && r.gateway_id() == Some(p.id_of("igw").as_str())
        ));
        assert!(t.associations().iter().any(|a| a.subnet_id() == Some(subnet.as_str())));
        let g = c.describe_security_groups().group_ids(&db_sg).send().await.unwrap();
        let perm = &g.security_groups()[0].ip_permissions()[0];
        assert_eq!(perm.from_port(), Some(3306));
        assert_eq!(perm.user_id_group_pairs()[0].group_id(), Some(app_sg.as_str()));
        let v = aws().s3.get_bucket_versioning().bucket("cb-lifecycle-data").send().await.unwrap();
        assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
        let pab = aws().s3.get_public_access_block().bucket("cb-lifecycle-data").send().await.unwrap();
        assert_eq!(pab.public_access_block_configuration().unwrap().block_public_acls(), Some(true));
        let attached = aws().iam.list_attached_role_policies().role_name("lifecycle-role").send().await.unwrap();
        assert_eq!(attached.attached_policies()[0].policy_name(), Some("lifecycle-read"));
        let inline = aws().iam.list_role_policies().role_name("lifecycle-role").send().await.unwrap();
        assert_eq!(inline.policy_names(), ["logs".to_string()]);
    });
    let serial_after_create = p.state()["serial"].as_u64().unwrap();
    assert!(serial_after_create >= 9, "state is written after every resource, serial {serial_after_create}");

    // ---- a second plan has nothing to do
    let run = p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // ---- in-place update: a rule added, versioning suspended, a tag changed, a new policy document
    let v2 = V1
        .replace("cidr_blocks: [10.20.0.0/16] }", "cidr_blocks: [10.20.0.0/16] }\n        - { protocol: tcp, from_port: 8443, to_port: 8443, cidr_blocks: [10.20.0.0/16] }")
        .replace("versioning: true", "versioning: false")
        .replace("tags: { Name: \"{{name}}\" }", "tags: { Name: \"{{name}}-v2\" }")
        .replace("Action: [\"s3:GetObject\"]", "Action: [\"s3:GetObject\", \"s3:ListBucket\"]");
    p.write("stacks/main.yaml", &v2);
    let run = p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(2);
    for addr in ["app_sg", "data", "vpc", "read_data"] {
        assert!(run.stdout.contains(&format!("# {addr} (")), "{addr} missing from plan:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("will be updated in-place"), "{}", run.stdout);
    assert!(run.stdout.contains("Plan: 0 to add, 4 to change, 0 to destroy."), "{}", run.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(p.id_of("vpc"), vpc, "an update keeps the resource");
    rt().block_on(async {
        let g = aws().ec2.describe_security_groups().group_ids(&app_sg).send().await.unwrap();
        let mut ports: Vec<i32> =
            g.security_groups()[0].ip_permissions().iter().filter_map(|p| p.from_port()).collect();
        ports.sort();
        assert_eq!(ports, vec![443, 8443]);
        let v = aws().s3.get_bucket_versioning().bucket("cb-lifecycle-data").send().await.unwrap();
        assert_eq!(v.status().map(|s| s.as_str()), Some("Suspended"));
        let v = aws().ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
        assert!(v.vpcs()[0].tags().iter().any(|t| t.key() == Some("Name") && t.value() == Some("lifecycle-v2")));
        let arn = p.id_of("read_data");
        let pol = aws().iam.get_policy().policy_arn(&arn).send().await.unwrap();
        let ver = pol.policy().unwrap().default_version_id().unwrap().to_string();
        let doc = aws().iam.get_policy_version().policy_arn(&arn).version_id(ver).send().await.unwrap();
        assert!(doc.policy_version().unwrap().document().unwrap().contains("ListBucket"));
    });
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    // ---- replace: a subnet's CIDR cannot change in place
    let v3 = v2.replace("cidr_block: 10.20.1.0/24", "cidr_block: 10.20.9.0/24");
    p.write("stacks/main.yaml", &v3);
    let run = p.cb(&["plan", "-e", "test"]).ok();
    assert!(run.stdout.contains("# subnet (aws.ec2.subnet) must be replaced"), "{}", run.stdout);
    assert!(run.stdout.contains("-/+ resource \"aws.ec2.subnet\" \"subnet\""), "{}", run.stdout);
    assert!(run.stdout.contains("\"10.20.1.0/24\" -> \"10.20.9.0/24\" # forces replacement"), "{}", run.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    let new_subnet = p.id_of("subnet");
    assert_ne!(new_subnet, subnet);
    rt().block_on(async {
        let f = aws_sdk_ec2::types::Filter::builder().name("subnet-id").values(&subnet).build();
        let gone = aws().ec2.describe_subnets().filters(f).send().await.unwrap();
        assert!(gone.subnets().is_empty(), "the old subnet must be deleted");
        let rt_ = aws().ec2.describe_route_tables().route_table_ids(p.id_of("public_rt")).send().await.unwrap();
        let assoc: Vec<_> = rt_.route_tables()[0].associations().iter().filter_map(|a| a.subnet_id()).collect();
        assert_eq!(assoc, vec![new_subnet.as_str()], "the route table follows the new subnet");
    });
    p.cb(&["plan", "-e", "test", "--detailed-exitcode"]).code(0);

    // ---- a resource removed from the stack is deleted
    let start = v3.find("  data:\n").unwrap();
    let end = v3.find("  read_data:\n").unwrap();
    let v4 = format!("{}{}", &v3[..start], &v3[end..]).replace("${data.arn}/*", "arn:aws:s3:::elsewhere/*");
    p.write("stacks/main.yaml", &v4);
    let run = p.cb(&["plan", "-e", "test"]).ok();
    assert!(run.stdout.contains("# data (aws.s3.bucket) will be destroyed"), "{}", run.stdout);
    p.cb(&["apply", "-e", "test", "--auto-approve"]).ok();
    assert!(!bucket_exists("cb-lifecycle-data"));

    // ---- destroy leaves nothing tagged with the stack
    let run = p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    assert!(run.stderr.contains("Destroy complete!"), "{}", run.stderr);
    assert_eq!(tagged_ec2("lifecycle"), Vec::<String>::new());
    assert!(!role_exists("lifecycle-role"));
    assert!(p.state()["resources"].as_array().unwrap().is_empty());
    assert_eq!(p.cb(&["state", "list", "-e", "test"]).ok().stdout, "");
}

#[test]
fn a_failed_resource_stops_only_its_dependents() {
    let p = Project::new("partial");
    p.local_env();
    // The second group's name collides with the first: AWS refuses it.
    p.write(
        "stacks/main.yaml",
        r#"
name: {{name}}
resources:
  vpc:
    type: aws.ec2.vpc
    properties: { cidr_block: 10.30.0.0/16 }
  sg_one:
    type: aws.ec2.security_group
    properties: { name: dup, vpc_id: "${vpc.id}" }
  sg_two:
    type: aws.ec2.security_group
    properties: { name: dup, vpc_id: "${vpc.id}" }
    depends_on: [sg_one]
  after_two:
    type: aws.ec2.security_group
    properties: { name: "after-${sg_two.id}", vpc_id: "${vpc.id}" }
  independent:
    type: aws.ec2.subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.30.1.0/24 }
"#,
    );
    let run = p.cb(&["apply", "-e", "test", "--auto-approve"]).code(1);
    assert!(run.stderr.contains("`sg_two`: InvalidGroup.Duplicate"), "{}", run.stderr);
    assert!(run.stderr.contains("after_two: not applied, because `sg_two` did not complete"), "{}", run.stderr);
    let state = p.state();
    let addrs: Vec<&str> =
        state["resources"].as_array().unwrap().iter().map(|r| r["address"].as_str().unwrap()).collect();
    assert_eq!(addrs, vec!["independent", "sg_one", "vpc"], "what succeeded is in state");
    p.cb(&["destroy", "-e", "test", "--auto-approve"]).ok();
    assert_eq!(tagged_ec2("partial"), Vec::<String>::new());
}
