//! Synthetic EC2 raw items in aws-v3's shape, varied by index (ids, states, IPs, tags), for
//! the engine and mapping benchmarks (`benches/mapping.rs` of this crate).

use serde_json::{Value, json};

/// The `i`-th item; 41 accounts, as in the end-to-end benchmark's organization.
pub fn ec2_item(i: usize) -> Value {
    let states = ["running", "stopped", "pending", "terminated"];
    json!({
        "Type": "AWS::EC2::Instance",
        "Properties": {
            "InstanceId": format!("i-{i:017x}"),
            "InstanceType": if i.is_multiple_of(3) { "t3.micro" } else { "m5.large" },
            "State": {"Code": 16, "Name": states[i % 4]},
            "PrivateIpAddress": format!("10.{}.{}.{}", i % 250, (i / 250) % 250, i % 7),
            "PublicIpAddress": if i.is_multiple_of(2) { Value::Null } else { json!(format!("54.1.{}.{}", i % 250, i % 9)) },
            "ImageId": "ami-0abcdef1234567890",
            "SubnetId": "subnet-12345678901234567",
            "VpcId": "vpc-12345678901234567",
            "LaunchTime": "2024-03-15T08:30:00Z",
            "Architecture": "x86_64",
            "Placement": {"AvailabilityZone": "us-east-1a", "Tenancy": "default"},
            "Monitoring": {"State": "disabled"},
            "SecurityGroups": [{"GroupId": "sg-12345678901234567", "GroupName": "default"}],
            "Tags": [
                {"Key": "Name", "Value": format!("server-{i}")},
                {"Key": "Environment", "Value": "production"},
                {"Key": "Team", "Value": "backend"}
            ]
        },
        "__ExtraContext": {"AccountId": format!("{:012}", 100_000_000_000u64 + (i % 41) as u64), "Region": "us-east-1", "ReservationId": format!("r-{i:x}")}
    })
}
